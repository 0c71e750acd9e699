//! Stage 2: check a declaration and lower it to a network description.
//!
//! Every mistake is recorded with the span of the token it is about, and
//! checking goes on, so one compile reports all of them.

use crate::parse::{Arg, ArgValue, Args, LayerAst, NetDecl};
use proc_macro2::Span;
use syn::Ident;

/// Errors collected while checking; turned into one `compile_error!` each.
#[derive(Default)]
pub struct Errors {
    list: Vec<syn::Error>,
}

impl Errors {
    pub fn push(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.list.push(syn::Error::new(span, msg));
    }

    /// All collected errors as one, or `None` if there were none.
    pub fn into_error(self) -> Option<syn::Error> {
        let mut it = self.list.into_iter();
        let mut first = it.next()?;
        for e in it {
            first.combine(e);
        }
        Some(first)
    }
}

/// An activation with its arguments checked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    Identity,
    BinaryStep,
    Sigmoid,
    Tanh,
    Relu,
    Softplus { beta: f64, threshold: f64 },
    LeakyRelu { slope: f64 },
    Elu { alpha: f64 },
}

/// A checked layer, with the width it produces.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Dense {
        inputs: usize,
        outputs: usize,
        bias: bool,
        /// Offset of the weights in the parameter buffer.
        offset: usize,
    },
    Act {
        act: Act,
        width: usize,
    },
    Residual {
        width: usize,
        body: Vec<Node>,
    },
}

/// A checked network.
pub struct Net {
    pub input: usize,
    pub output: usize,
    pub params: usize,
    pub nodes: Vec<Node>,
    pub static_kernels: bool,
    pub docs: Vec<syn::Attribute>,
    pub lint_attrs: Vec<syn::Attribute>,
}

/// Names of the activations, as accepted (PyTorch spellings are aliases).
const ACTIVATIONS: &[(&str, &str)] = &[
    ("Identity", "Identity"),
    ("Linear", "Identity"),
    ("BinaryStep", "BinaryStep"),
    ("Sigmoid", "Sigmoid"),
    ("Tanh", "Tanh"),
    ("Relu", "Relu"),
    ("ReLU", "Relu"),
    ("Softplus", "Softplus"),
    ("LeakyRelu", "LeakyRelu"),
    ("LeakyReLU", "LeakyRelu"),
    ("Elu", "Elu"),
    ("ELU", "Elu"),
];

/// Every layer name, for "did you mean" suggestions.
const ALL_LAYERS: &[&str] = &[
    "Dense",
    "Residual",
    "Identity",
    "Linear",
    "BinaryStep",
    "Sigmoid",
    "Tanh",
    "Relu",
    "Softplus",
    "LeakyRelu",
    "Elu",
];

/// The largest width accepted; beyond it parameter counts stop making sense
/// for a statically sized network.
const MAX_WIDTH: u64 = 1 << 24;

pub fn validate(decl: &NetDecl, errors: &mut Errors) -> Option<Net> {
    let before = errors.list.len();
    let mut static_kernels = false;
    let mut docs = Vec::new();
    let mut lint_attrs = Vec::new();
    for attr in &decl.attrs {
        let path = attr.path();
        if path.is_ident("doc") {
            docs.push(attr.clone());
        } else if path.is_ident("static_kernels") {
            if let Err(e) = attr.meta.require_path_only() {
                errors.push(e.span(), "`#[static_kernels]` takes no arguments");
            }
            static_kernels = true;
        } else if ["allow", "warn", "deny", "expect"]
            .iter()
            .any(|l| path.is_ident(l))
        {
            lint_attrs.push(attr.clone());
        } else {
            errors.push(
                attr.pound_token.span,
                "unsupported attribute on a network; allowed are doc comments, lint levels \
                 (`#[allow(..)]`) and `#[static_kernels]`",
            );
        }
    }

    let input = width(&decl.input, "input width", errors);
    let output = width(&decl.output, "output width", errors);

    if decl.layers.is_empty() {
        errors.push(
            decl.body_span,
            format!(
                "network `{}` has no layers; declare at least one, as in `{{ Dense<{}> }}`",
                decl.name,
                output.unwrap_or(1)
            ),
        );
    }

    let mut offset = 0usize;
    let (nodes, last) = lower(&decl.layers, input.unwrap_or(1), &mut offset, errors);

    if let (Some(out), Some(last)) = (output, last) {
        if input.is_some() && out != last {
            errors.push(
                decl.output.span(),
                format!(
                    "network `{}` declares output width {out}, but its last layer produces \
                     {last}; end with `Dense<{out}>` or declare `-> {last}`",
                    decl.name
                ),
            );
        }
    }

    if errors.list.len() != before {
        return None;
    }
    Some(Net {
        input: input?,
        output: output?,
        params: offset,
        nodes,
        static_kernels,
        docs,
        lint_attrs,
    })
}

fn width(lit: &syn::LitInt, what: &str, errors: &mut Errors) -> Option<usize> {
    match lit.base10_parse::<u64>() {
        Ok(0) => {
            errors.push(lit.span(), format!("{what} is zero; a width must be at least 1"));
            None
        }
        Ok(w) if w > MAX_WIDTH => {
            errors.push(
                lit.span(),
                format!("{what} {w} is too large; widths are at most {MAX_WIDTH}"),
            );
            None
        }
        Ok(w) => Some(w as usize),
        Err(_) => {
            errors.push(
                lit.span(),
                format!("{what} must be a plain integer such as `64`"),
            );
            None
        }
    }
}

/// Lowers a layer list fed `width` wide inputs; returns the nodes and the
/// width they produce (`None` once a width is unknown after an error).
fn lower(
    layers: &[LayerAst],
    mut width_in: usize,
    offset: &mut usize,
    errors: &mut Errors,
) -> (Vec<Node>, Option<usize>) {
    let mut nodes = Vec::new();
    let mut known = true;
    for layer in layers {
        match layer {
            LayerAst::Dense {
                kw,
                width: w,
                bias,
            } => {
                let Some(w) = w else {
                    errors.push(
                        kw.span(),
                        "missing width: write `Dense<N>` with the number of outputs N",
                    );
                    known = false;
                    continue;
                };
                let Some(out) = width(w, "layer width", errors) else {
                    known = false;
                    continue;
                };
                let bias = bias.as_ref().map(|b| b.value).unwrap_or(true);
                let n = width_in
                    .checked_mul(out)
                    .and_then(|wc| wc.checked_add(if bias { out } else { 0 }))
                    .and_then(|n| n.checked_add(*offset));
                match n {
                    Some(end) => {
                        nodes.push(Node::Dense {
                            inputs: width_in,
                            outputs: out,
                            bias,
                            offset: *offset,
                        });
                        *offset = end;
                    }
                    None => errors.push(kw.span(), "the network has too many parameters to count"),
                }
                width_in = out;
            }
            LayerAst::Residual {
                kw,
                body_span,
                body,
            } => {
                if body.is_empty() {
                    errors.push(
                        *body_span,
                        "empty residual body; a residual block `y = x + f(x)` needs layers for f",
                    );
                    continue;
                }
                let (inner, out) = lower(body, width_in, offset, errors);
                match out {
                    Some(out) if out != width_in => errors.push(
                        kw.span(),
                        format!(
                            "Residual body maps {width_in} -> {out}; a residual block must keep \
                             its width ({width_in}), so end its body with `Dense<{width_in}>`"
                        ),
                    ),
                    Some(_) => nodes.push(Node::Residual {
                        width: width_in,
                        body: inner,
                    }),
                    None => known = false,
                }
            }
            LayerAst::Named { name, args } => match activation(name, args.as_ref(), errors) {
                Some(act) => nodes.push(Node::Act {
                    act,
                    width: width_in,
                }),
                None => continue,
            },
        }
    }
    (nodes, known.then_some(width_in))
}

fn activation(name: &Ident, args: Option<&Args>, errors: &mut Errors) -> Option<Act> {
    let written = name.to_string();
    let Some(&(_, canonical)) = ACTIVATIONS.iter().find(|(n, _)| *n == written) else {
        let hint = suggestion(&written)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        errors.push(
            name.span(),
            format!(
                "unknown layer `{written}`{hint}; expected `Dense<N>`, `Residual {{ ... }}` or an \
                 activation: Identity, BinaryStep, Sigmoid, Tanh, Relu, Softplus, \
                 LeakyRelu(slope), Elu(alpha)"
            ),
        );
        return None;
    };
    let params: &[(&str, f64)] = match canonical {
        "Softplus" => &[("beta", 1.0), ("threshold", 20.0)],
        "LeakyRelu" => &[("slope", 0.01)],
        "Elu" => &[("alpha", 1.0)],
        _ => &[],
    };
    let values = arguments(name, canonical, params, args, errors)?;
    Some(match canonical {
        "Identity" => Act::Identity,
        "BinaryStep" => Act::BinaryStep,
        "Sigmoid" => Act::Sigmoid,
        "Tanh" => Act::Tanh,
        "Relu" => Act::Relu,
        "Softplus" => Act::Softplus {
            beta: values[0],
            threshold: values[1],
        },
        "LeakyRelu" => Act::LeakyRelu { slope: values[0] },
        "Elu" => Act::Elu { alpha: values[0] },
        _ => unreachable!("every canonical name is handled"),
    })
}

/// Checks an activation's arguments against its parameters (name and
/// default) and returns their values.
fn arguments(
    name: &Ident,
    canonical: &str,
    params: &[(&str, f64)],
    args: Option<&Args>,
    errors: &mut Errors,
) -> Option<Vec<f64>> {
    let mut values: Vec<f64> = params.iter().map(|p| p.1).collect();
    let Some(args) = args else {
        return Some(values);
    };
    if params.is_empty() {
        errors.push(
            args.span,
            format!("`{name}` takes no arguments; write `{name}` alone"),
        );
        return None;
    }
    let usage = usage(canonical, params);
    if args.items.len() > params.len() {
        errors.push(
            args.span,
            format!(
                "`{name}` takes at most {} argument{}: {usage}",
                params.len(),
                if params.len() == 1 { "" } else { "s" }
            ),
        );
        return None;
    }
    let mut ok = true;
    for (pos, Arg { name: key, value }) in args.items.iter().enumerate() {
        let index = match key {
            Some(key) => match params.iter().position(|p| key == p.0) {
                Some(i) => i,
                None => {
                    errors.push(
                        key.span(),
                        format!("`{name}` has no parameter `{key}`; expected {usage}"),
                    );
                    ok = false;
                    continue;
                }
            },
            None => pos,
        };
        match value {
            ArgValue::Number { value, span } => {
                let pname = params[index].0;
                if !value.is_finite() {
                    errors.push(*span, format!("`{pname}` must be a finite number"));
                    ok = false;
                } else if (pname == "beta" || pname == "threshold") && *value <= 0.0 {
                    errors.push(
                        *span,
                        format!("`{pname}` of Softplus must be positive, got {value}"),
                    );
                    ok = false;
                } else {
                    values[index] = *value;
                }
            }
            ArgValue::Other { span } => {
                errors.push(
                    *span,
                    format!(
                        "expected a number literal for `{}` of `{name}`, as in {usage}",
                        params[index].0
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(values)
}

fn usage(canonical: &str, params: &[(&str, f64)]) -> String {
    let list: Vec<String> = params
        .iter()
        .map(|(n, d)| format!("{n} = {}", fmt_f64(*d)))
        .collect();
    format!("`{canonical}({})`", list.join(", "))
}

fn fmt_f64(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

/// The closest known layer name, if it is close enough to be a typo.
fn suggestion(written: &str) -> Option<&'static str> {
    let lower = written.to_ascii_lowercase();
    ALL_LAYERS
        .iter()
        .map(|&c| (c, edit_distance(&lower, &c.to_ascii_lowercase())))
        .filter(|&(_, d)| d <= 2)
        .min_by_key(|&(_, d)| d)
        .map(|(c, _)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(suggestion("Relux"), Some("Relu"));
        assert_eq!(suggestion("sigmoid"), Some("Sigmoid"));
        assert_eq!(suggestion("Conv2d"), None);
    }
}
