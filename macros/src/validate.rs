//! Stage 2: check a declaration and lower it to a network description.
//!
//! Every mistake is recorded with the tokens it is about, and checking goes
//! on, so one compile reports all of them. A mistake can leave the width
//! flowing through the network unknown (`Dense` without `<N>`); checks that
//! need that width are then skipped, not guessed, until a layer with a
//! known width (the next `Dense<N>`) sets it again. That way one mistake
//! does not turn into several.

use crate::parse::{Arg, ArgValue, Args, Body, LayerAst, NetDecl, ValueKind};
use proc_macro2::Span;
use quote::ToTokens;
use syn::{Ident, Meta};

mod activation;
mod suggest;

use activation::ACTIVATIONS;
use suggest::suggestion;

/// Errors collected while checking; turned into one `compile_error!` each.
#[derive(Default)]
pub struct Errors {
    list: Vec<syn::Error>,
}

impl Errors {
    pub fn push(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.list.push(syn::Error::new(span, msg));
    }

    /// An error covering `tokens`, from their first to their last token.
    pub fn push_spanned(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) {
        self.list.push(syn::Error::new_spanned(tokens, msg));
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
    pub fast_math: bool,
    pub docs: Vec<syn::Attribute>,
    pub lint_attrs: Vec<syn::Attribute>,
}

/// The largest width accepted; beyond it parameter counts stop making sense
/// for a statically sized network.
const MAX_WIDTH: u64 = 1 << 24;

pub fn validate(decl: &NetDecl, errors: &mut Errors) -> Option<Net> {
    let before = errors.list.len();
    let (switches, docs, lint_attrs) = attributes(&decl.attrs, errors);

    let input = header_width(&decl.input, "input", errors);
    let output = header_width(&decl.output, "output", errors);

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

    let mut lower = Lower { offset: 0, errors };
    let (nodes, last) = lower.list(&decl.layers, input);

    if let (Some(out), Some(last), false) = (output, last, decl.layers.is_empty()) {
        if out != last {
            lower.errors.push(
                decl.output.span(),
                format!(
                    "network `{}` declares output width {out}, but its last layer produces \
                     {last}; end with `Dense<{out}>` or declare `-> {last}`",
                    decl.name
                ),
            );
        }
    }

    let params = lower.offset;
    if errors.list.len() != before {
        return None;
    }
    Some(Net {
        input: input?,
        output: output?,
        params,
        nodes,
        static_kernels: switches.static_kernels,
        fast_math: switches.fast_math,
        docs,
        lint_attrs,
    })
}

/// The switches a declaration can set with attributes.
#[derive(Default)]
struct Switches {
    /// `#[static_kernels]`: never use matrixmultiply.
    static_kernels: bool,
    /// `#[fast_math]`: vectorised approximations of the transcendental
    /// activations (in `f32`).
    fast_math: bool,
}

/// Sorts the attributes of a declaration: doc comments and lint levels go
/// onto the generated items, `#[static_kernels]` and `#[fast_math]` are
/// switches.
fn attributes(
    attrs: &[syn::Attribute],
    errors: &mut Errors,
) -> (Switches, Vec<syn::Attribute>, Vec<syn::Attribute>) {
    let mut switches = Switches::default();
    let mut docs = Vec::new();
    let mut lint_attrs = Vec::new();
    for attr in attrs {
        let path = attr.path();
        let switch = if path.is_ident("static_kernels") {
            Some(("static_kernels", &mut switches.static_kernels))
        } else if path.is_ident("fast_math") {
            Some(("fast_math", &mut switches.fast_math))
        } else {
            None
        };
        if path.is_ident("doc") {
            docs.push(attr.clone());
        } else if let Some((name, flag)) = switch {
            match &attr.meta {
                Meta::Path(_) => {}
                Meta::List(list) => errors.push(
                    list.delimiter.span().join(),
                    format!("`#[{name}]` takes no arguments; write `#[{name}]` alone"),
                ),
                Meta::NameValue(nv) => errors.push_spanned(
                    {
                        let (eq, value) = (&nv.eq_token, &nv.value);
                        quote::quote!(#eq #value)
                    },
                    format!("`#[{name}]` takes no value; write `#[{name}]` alone"),
                ),
            }
            *flag = true;
        } else if ["allow", "warn", "deny", "forbid", "expect"]
            .iter()
            .any(|l| path.is_ident(l))
        {
            lint_attrs.push(attr.clone());
        } else {
            let written = path.to_token_stream().to_string().replace(' ', "");
            errors.push_spanned(
                path,
                format!(
                    "unsupported attribute `#[{written}]` on a network; allowed are doc \
                     comments, lint levels such as `#[allow(..)]`, `#[static_kernels]` and \
                     `#[fast_math]`"
                ),
            );
        }
    }
    (switches, docs, lint_attrs)
}

/// Checks the input or output width of the header.
fn header_width(lit: &syn::LitInt, which: &str, errors: &mut Errors) -> Option<usize> {
    let example = if which == "input" {
        "`(1 -> 10)`"
    } else {
        "`(64 -> 1)`"
    };
    match lit.base10_parse::<u64>() {
        Ok(0) => {
            errors.push(
                lit.span(),
                format!(
                    "{which} width is zero; a network needs at least one {which}, as in {example}"
                ),
            );
            None
        }
        Ok(w) if w <= MAX_WIDTH => Some(w as usize),
        _ => {
            errors.push(
                lit.span(),
                format!("{which} width {lit} is too large; widths are at most {MAX_WIDTH}"),
            );
            None
        }
    }
}

/// Lowers layer lists, numbering the parameters as it goes.
struct Lower<'e> {
    /// Parameters of the layers lowered so far: the next layer's offset.
    offset: usize,
    errors: &'e mut Errors,
}

impl Lower<'_> {
    /// Lowers a list fed `width` wide inputs (`None`: unknown after an
    /// error); returns the nodes and the width they produce.
    fn list(
        &mut self,
        layers: &[syn::Result<LayerAst>],
        mut width: Option<usize>,
    ) -> (Vec<Node>, Option<usize>) {
        let mut nodes = Vec::new();
        for entry in layers {
            width = match entry {
                Ok(layer) => self.layer(layer, width, &mut nodes),
                Err(e) => {
                    self.errors.list.push(e.clone());
                    None
                }
            };
        }
        (nodes, width)
    }

    fn layer(
        &mut self,
        layer: &LayerAst,
        width: Option<usize>,
        nodes: &mut Vec<Node>,
    ) -> Option<usize> {
        let written = layer.name.to_string();
        if written == "Dense" {
            return self.dense(layer, width, nodes);
        }
        if written == "Residual" {
            return self.residual(layer, width, nodes);
        }
        match ACTIVATIONS.iter().find(|(n, _)| *n == written) {
            Some(&(_, canonical)) => self.activation(layer, canonical, width, nodes),
            None => self.unknown(layer, width),
        }
    }

    fn activation(
        &mut self,
        layer: &LayerAst,
        canonical: &str,
        width: Option<usize>,
        nodes: &mut Vec<Node>,
    ) -> Option<usize> {
        let name = &layer.name;
        if let Some(generics) = &layer.generics {
            let hint = if canonical == "Identity" {
                format!(
                    "; `{name}` is the identity activation here, a fully connected layer is \
                     `Dense<N>`"
                )
            } else {
                String::new()
            };
            self.errors.push_spanned(
                &generics.tokens,
                format!(
                    "`{name}` takes no width: an activation keeps the width of its input, so \
                     remove the `<...>`{hint}"
                ),
            );
        }
        if let Some(body) = &layer.body {
            self.errors.push(
                body.span,
                format!("`{name}` takes no `{{ ... }}` block; only `Residual` does"),
            );
        }
        let act = activation::checked(name, canonical, layer.args.as_ref(), self.errors);
        if let (Some(act), Some(width)) = (act, width) {
            nodes.push(Node::Act { act, width });
        }
        // A width written on an activation (`Linear<10>`) most likely meant
        // a dense layer, so what comes out is unknown rather than `width`.
        if layer.generics.is_some() {
            None
        } else {
            width
        }
    }

    fn dense(
        &mut self,
        layer: &LayerAst,
        width_in: Option<usize>,
        nodes: &mut Vec<Node>,
    ) -> Option<usize> {
        let kw = &layer.name;
        if let Some(body) = &layer.body {
            self.errors.push(
                body.span,
                "`Dense` takes no `{ ... }` block; only `Residual` does",
            );
        }
        let (out, bias) = match (&layer.generics, &layer.args) {
            (Some(generics), args) => {
                if let Some(args) = args {
                    self.errors.push_spanned(
                        &args.tokens,
                        "`Dense` takes no arguments in parentheses; its width and options go \
                         in angle brackets, as in `Dense<64, bias = false>`",
                    );
                }
                self.dense_generics(kw, generics)
            }
            (None, Some(args)) => (self.dense_in_parentheses(args), true),
            (None, None) => {
                self.errors.push(
                    kw.span(),
                    "missing width: write `Dense<N>` with the number of outputs N, as in `Dense<64>`",
                );
                (None, true)
            }
        };
        let (Some(inputs), Some(outputs)) = (width_in, out) else {
            return out;
        };
        let end = inputs
            .checked_mul(outputs)
            .and_then(|w| w.checked_add(if bias { outputs } else { 0 }))
            .and_then(|n| n.checked_add(self.offset));
        match end {
            Some(end) => {
                nodes.push(Node::Dense {
                    inputs,
                    outputs,
                    bias,
                    offset: self.offset,
                });
                self.offset = end;
            }
            None => self.errors.push(
                kw.span(),
                "the network has too many parameters to count; make its layers narrower",
            ),
        }
        out
    }

    /// `<N>` or `<N, bias = false>` after `Dense`: the width and the bias flag.
    fn dense_generics(&mut self, kw: &Ident, generics: &Args) -> (Option<usize>, bool) {
        let mut width = None;
        let mut has_width = false;
        let mut bias: Option<bool> = None;
        for (i, item) in generics.items.iter().enumerate() {
            match &item.name {
                None if i == 0 => {
                    has_width = true;
                    width = self.layer_width(&item.value, &item.tokens);
                }
                None => self.errors.push_spanned(
                    &item.tokens,
                    "`Dense` takes one width; options are named, as in `Dense<64, bias = false>`",
                ),
                Some(key) if key == "bias" => match item.value.kind {
                    _ if bias.is_some() => self
                        .errors
                        .push_spanned(&item.tokens, "`bias` is given twice; keep one"),
                    ValueKind::Bool(b) => bias = Some(b),
                    _ => self.errors.push_spanned(
                        value_or_item(item),
                        "expected `true` or `false` for `bias`, as in `Dense<64, bias = false>`",
                    ),
                },
                Some(key) => self.errors.push(
                    key.span(),
                    format!(
                        "unknown option `{key}` of `Dense`; the only option is `bias`, as in \
                         `Dense<64, bias = false>`"
                    ),
                ),
            }
        }
        if !has_width {
            self.errors.push_spanned(
                if generics.items.is_empty() {
                    kw.to_token_stream()
                } else {
                    generics.tokens.clone()
                },
                "missing width: the number of outputs comes first, as in `Dense<64>` or \
                 `Dense<64, bias = false>`",
            );
        }
        (width, bias.unwrap_or(true))
    }

    /// `Dense(64)`, as PyTorch would spell it: one error, and the width is
    /// still used so that the layers after it are checked.
    fn dense_in_parentheses(&mut self, args: &Args) -> Option<usize> {
        let single = match args.items.as_slice() {
            [Arg {
                name: None,
                value:
                    ArgValue {
                        kind:
                            ValueKind::Number {
                                value,
                                integer: true,
                            },
                        ..
                    },
                ..
            }] if *value >= 1.0 && *value <= MAX_WIDTH as f64 => Some(*value as usize),
            _ => None,
        };
        let example = single.map_or("N".to_string(), |w| w.to_string());
        self.errors.push_spanned(
            &args.tokens,
            format!("the width of `Dense` goes in angle brackets: write `Dense<{example}>`"),
        );
        single
    }

    /// The width of a dense layer: a positive integer literal.
    fn layer_width(&mut self, value: &ArgValue, item: &proc_macro2::TokenStream) -> Option<usize> {
        let problem = match value.kind {
            _ if value.tokens.is_empty() => {
                "missing width: the number of outputs comes first, as in `Dense<64>`".to_string()
            }
            ValueKind::Number {
                value,
                integer: true,
            } => {
                if value >= 1.0 && value <= MAX_WIDTH as f64 {
                    return Some(value as usize);
                } else if value == 0.0 {
                    "layer width is zero; a dense layer needs at least one output, as in \
                     `Dense<1>`"
                        .to_string()
                } else if value > 0.0 {
                    format!("layer width {value} is too large; widths are at most {MAX_WIDTH}")
                } else {
                    "layer width must be positive, as in `Dense<64>`".to_string()
                }
            }
            ValueKind::Number { .. } => {
                "layer width must be a whole number, as in `Dense<64>`".to_string()
            }
            ValueKind::Bool(_) | ValueKind::Other => format!(
                "layer width must be an integer literal, as in `Dense<64>`; `network!` \
                 computes shapes from the literal, so it cannot read `{}`",
                value.tokens
            ),
        };
        self.errors.push_spanned(
            if value.tokens.is_empty() {
                item
            } else {
                &value.tokens
            },
            problem,
        );
        None
    }

    fn residual(
        &mut self,
        layer: &LayerAst,
        width_in: Option<usize>,
        nodes: &mut Vec<Node>,
    ) -> Option<usize> {
        let kw = &layer.name;
        let n = width_in.map_or("N".to_string(), |w| w.to_string());
        if let Some(generics) = &layer.generics {
            self.errors.push_spanned(
                &generics.tokens,
                "`Residual` takes no width: a residual block keeps the width of its input, so \
                 remove the `<...>`",
            );
        }
        if let Some(args) = &layer.args {
            self.errors.push_spanned(
                &args.tokens,
                format!(
                    "`Residual` takes no arguments; write its layers in braces, as in \
                     `Residual {{ Dense<{n}>, Relu, Dense<{n}> }}`"
                ),
            );
        }
        let Some(Body { span, layers }) = &layer.body else {
            self.errors.push(
                kw.span(),
                format!(
                    "`Residual` needs its layers in braces, as in \
                     `Residual {{ Dense<{n}>, Relu, Dense<{n}> }}`"
                ),
            );
            return width_in;
        };
        if layers.is_empty() {
            self.errors.push(
                *span,
                format!(
                    "empty residual body; a residual block computes `y = x + f(x)` and needs \
                     layers for f, as in `Residual {{ Dense<{n}>, Relu, Dense<{n}> }}`"
                ),
            );
            return width_in;
        }
        let (body, out) = self.list(layers, width_in);
        match (width_in, out) {
            (Some(w), Some(out)) if out != w => self.errors.push(
                kw.span(),
                format!(
                    "Residual body maps {w} -> {out}; a residual block must keep its width \
                     ({w}), so end its body with `Dense<{w}>`"
                ),
            ),
            (Some(width), Some(_)) => nodes.push(Node::Residual { width, body }),
            _ => {}
        }
        // `y = x + f(x)` has the width of `x`, and of `f(x)` if `x` is unknown.
        width_in.or(out)
    }

    /// A name that is no layer. Its block, if any, is still checked; the
    /// width goes on unchanged for a plain name (most likely a misspelled
    /// activation) and becomes unknown for a name with `<...>`.
    fn unknown(&mut self, layer: &LayerAst, width: Option<usize>) -> Option<usize> {
        let written = layer.name.to_string();
        let hint = suggestion(&written)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        self.errors.push(
            layer.name.span(),
            format!(
                "unknown layer `{written}`{hint}; expected `Dense<N>`, `Residual {{ ... }}` or \
                 an activation: Identity, BinaryStep, Sigmoid, Tanh, Relu, Softplus, \
                 LeakyRelu(slope), Elu(alpha)"
            ),
        );
        if let Some(body) = &layer.body {
            self.list(&body.layers, width);
        }
        if layer.generics.is_some() {
            None
        } else {
            width
        }
    }
}

/// An argument's value, or the whole argument when no value was written.
fn value_or_item(item: &Arg) -> &proc_macro2::TokenStream {
    if item.value.tokens.is_empty() {
        &item.tokens
    } else {
        &item.value.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    pub(super) fn check(tokens: proc_macro2::TokenStream) -> (Option<Net>, Vec<String>) {
        let decl: NetDecl = syn::parse2(tokens).unwrap();
        let mut errors = Errors::default();
        let net = validate(&decl, &mut errors);
        let messages = errors.list.iter().map(|e| e.to_string()).collect();
        (net, messages)
    }

    #[test]
    fn a_valid_network_counts_its_parameters() {
        let (net, errors) = check(quote!(struct N(3 -> 2) {
            Dense<4>, Relu, Residual { Dense<4, bias = false>, Tanh }, Dense<2>
        }));
        assert!(errors.is_empty(), "{errors:?}");
        let net = net.unwrap();
        assert_eq!(net.params, (3 * 4 + 4) + 4 * 4 + (4 * 2 + 2));
        assert_eq!(net.nodes.len(), 4);
    }

    #[test]
    fn an_unknown_width_silences_only_the_checks_that_need_it() {
        // After `Dense` without a width nothing is known until `Dense<8>`;
        // the residual block after it is checked against 8, and so is the
        // declared output.
        let (net, errors) = check(quote!(struct N(4 -> 3) {
            Dense, Residual { Dense<5> }, Dense<8>, Residual { Dense<6> }, Relu
        }));
        assert!(net.is_none());
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("missing width"));
        assert!(errors[1].starts_with("Residual body maps 8 -> 6"));
        assert!(errors[2].contains("declares output width 3, but its last layer produces 8"));
    }
}
