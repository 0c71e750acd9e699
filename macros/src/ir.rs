//! The checked network flattened into numbered values and operations, the
//! form the code generators walk.

use crate::validate::{Act, Node};

/// One operation; each produces a new value (numbered in order, the input
/// being value 0), except `ResidualBegin`, which only marks where a block
/// starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Dense {
        from: usize,
        to: usize,
        inputs: usize,
        outputs: usize,
        bias: bool,
        offset: usize,
        /// Index among the dense layers, in declaration order.
        index: usize,
    },
    Act {
        from: usize,
        to: usize,
        act: Act,
    },
    ResidualBegin {
        skip: usize,
    },
    ResidualEnd {
        skip: usize,
        body_out: usize,
        to: usize,
    },
}

/// The flattened network: every value's width and the operations in order.
pub struct Flat {
    pub widths: Vec<usize>,
    pub ops: Vec<Op>,
}

impl Flat {
    pub fn new(input: usize, nodes: &[Node]) -> Flat {
        let mut flat = Flat {
            widths: vec![input],
            ops: Vec::new(),
        };
        let mut dense_index = 0;
        flat.push_nodes(nodes, 0, &mut dense_index);
        flat
    }

    /// The value holding the network's output.
    pub fn output(&self) -> usize {
        self.widths.len() - 1
    }

    fn new_value(&mut self, width: usize) -> usize {
        self.widths.push(width);
        self.widths.len() - 1
    }

    fn push_nodes(&mut self, nodes: &[Node], mut cur: usize, dense_index: &mut usize) -> usize {
        for node in nodes {
            cur = match node {
                Node::Dense {
                    inputs,
                    outputs,
                    bias,
                    offset,
                } => {
                    let to = self.new_value(*outputs);
                    self.ops.push(Op::Dense {
                        from: cur,
                        to,
                        inputs: *inputs,
                        outputs: *outputs,
                        bias: *bias,
                        offset: *offset,
                        index: *dense_index,
                    });
                    *dense_index += 1;
                    to
                }
                Node::Act { act, width } => {
                    let to = self.new_value(*width);
                    self.ops.push(Op::Act {
                        from: cur,
                        to,
                        act: *act,
                    });
                    to
                }
                Node::Residual { width, body } => {
                    self.ops.push(Op::ResidualBegin { skip: cur });
                    let body_out = self.push_nodes(body, cur, dense_index);
                    let to = self.new_value(*width);
                    self.ops.push(Op::ResidualEnd {
                        skip: cur,
                        body_out,
                        to,
                    });
                    to
                }
            };
        }
        cur
    }
}

/// Hands out scratch buffers by width, reusing released ones, so the
/// backward and inference passes need only as many buffers as are alive at
/// once.
#[derive(Default)]
pub struct Buffers {
    pub widths: Vec<usize>,
    free: Vec<bool>,
}

impl Buffers {
    pub fn acquire(&mut self, width: usize) -> usize {
        if let Some(i) = (0..self.widths.len()).find(|&i| self.free[i] && self.widths[i] == width) {
            self.free[i] = false;
            return i;
        }
        self.widths.push(width);
        self.free.push(false);
        self.widths.len() - 1
    }

    pub fn release(&mut self, id: usize) {
        self.free[id] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residual_values_are_numbered_in_order() {
        let nodes = vec![
            Node::Dense {
                inputs: 2,
                outputs: 4,
                bias: true,
                offset: 0,
            },
            Node::Residual {
                width: 4,
                body: vec![Node::Act {
                    act: Act::Tanh,
                    width: 4,
                }],
            },
        ];
        let flat = Flat::new(2, &nodes);
        assert_eq!(flat.widths, vec![2, 4, 4, 4]);
        assert_eq!(flat.output(), 3);
        assert_eq!(flat.ops[1], Op::ResidualBegin { skip: 1 });
        assert_eq!(
            flat.ops[3],
            Op::ResidualEnd {
                skip: 1,
                body_out: 2,
                to: 3
            }
        );
    }

    #[test]
    fn buffers_are_reused_by_width() {
        let mut b = Buffers::default();
        let a = b.acquire(8);
        let c = b.acquire(8);
        assert_ne!(a, c);
        b.release(a);
        assert_eq!(b.acquire(4), 2);
        assert_eq!(b.acquire(8), a);
    }
}
