//! Stage 1: tokens into an AST that keeps every token's span.
//!
//! Parsing is structural on purpose. A layer is any `Name`, optionally
//! followed by `<...>`, `(...)` and `{...}`; what each name allows is for
//! validation to check. So a width that is not a literal, an unknown option
//! or a misspelled name all reach validation with their tokens, and one
//! compile reports every mistake of a declaration. A real syntax error in a
//! layer list (a stray token, a missing comma) is kept in the list in place
//! of its layer, and parsing goes on after the next comma. Only a broken
//! header (`struct Name(IN -> OUT) { ... }`) stops the parse, since without
//! it there is no type to stand in for the network.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Attribute, Ident, LitInt, Token, Visibility};

/// Everything inside one `network! { ... }` invocation.
pub struct Input {
    /// The path of the runtime crate (`$crate`, passed by the wrapper).
    pub krate: TokenStream,
    pub nets: Vec<NetDecl>,
}

/// `#[attrs] vis struct Name(IN -> OUT) { layers }`
pub struct NetDecl {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub input: LitInt,
    pub output: LitInt,
    pub body_span: Span,
    /// Each entry of the layer list, or the syntax error found in its place.
    pub layers: Vec<syn::Result<LayerAst>>,
}

/// One entry of a layer list as written: `Name`, then optionally `<...>`,
/// `(...)` and `{...}`, in that order.
pub struct LayerAst {
    pub name: Ident,
    /// `<...>`: a width and options, as in `Dense<64, bias = false>`.
    pub generics: Option<Args>,
    /// `(...)`: arguments, as in `LeakyRelu(0.01)`.
    pub args: Option<Args>,
    /// `{...}`: a nested layer list, as in `Residual { ... }`.
    pub body: Option<Body>,
}

/// The braced layer list after a name.
pub struct Body {
    pub span: Span,
    pub layers: Vec<syn::Result<LayerAst>>,
}

/// A bracketed, comma-separated list: `(a, name = b)` or `<a, name = b>`.
pub struct Args {
    /// Every token, brackets included, so an error can cover the list.
    pub tokens: TokenStream,
    pub items: Vec<Arg>,
}

/// One item of a list: `value` or `name = value`.
pub struct Arg {
    pub name: Option<Ident>,
    pub value: ArgValue,
    /// The whole item, so an error can cover it.
    pub tokens: TokenStream,
}

/// An item's value, classified but not yet checked.
pub struct ArgValue {
    pub kind: ValueKind,
    /// The value's tokens; empty when nothing follows `name =`.
    pub tokens: TokenStream,
}

pub enum ValueKind {
    /// A number literal, possibly negated. `integer` tells `64` from `64.0`.
    Number { value: f64, integer: bool },
    /// `true` or `false`.
    Bool(bool),
    /// Anything else: a name, an expression, or nothing at all.
    Other,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // The wrapper macro passes `$crate ;` first.
        let mut krate = TokenStream::new();
        while !input.peek(Token![;]) {
            let tt: TokenTree = input.parse()?;
            krate.extend([tt]);
        }
        input.parse::<Token![;]>()?;
        let mut nets = Vec::new();
        while !input.is_empty() {
            nets.push(input.parse()?);
        }
        if nets.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "`network!` is empty; declare a network inside it, as in \
                 `struct Name(4 -> 2) { Dense<8>, Relu, Dense<2> }`",
            ));
        }
        Ok(Input { krate, nets })
    }
}

impl Parse for NetDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![struct]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `struct`: a network is declared as `struct Name(IN -> OUT) { ... }`",
            )
        })?;
        let name: Ident = input.parse()?;
        if !input.peek(syn::token::Paren) {
            return Err(input.error(format!(
                "expected the widths of `{name}` in parentheses, as in `struct {name}(64 -> 10)`"
            )));
        }
        let dims;
        syn::parenthesized!(dims in input);
        let input_width = header_width(&dims, "input")?;
        dims.parse::<Token![->]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `->` between the input and output widths, as in `(64 -> 10)`",
            )
        })?;
        let output_width = header_width(&dims, "output")?;
        if !dims.is_empty() {
            return Err(dims.error(
                "expected `)` after the output width: the header holds only the input and \
                 output widths, as in `(64 -> 10)`; hidden widths go in the layers",
            ));
        }
        if !input.peek(syn::token::Brace) {
            return Err(input.error(format!(
                "expected the layers of `{name}` in braces, as in `{{ Dense<8>, Relu, Dense<2> }}`"
            )));
        }
        let body: Group = input.parse()?;
        let layers = layer_list.parse2(body.stream())?;
        // Allow an optional `;` after the declaration.
        if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
        }
        Ok(NetDecl {
            attrs,
            vis,
            name,
            input: input_width,
            output: output_width,
            body_span: body.span(),
            layers,
        })
    }
}

/// The input or output width in the header: an integer literal, since the
/// macro computes every shape from it while it expands.
fn header_width(dims: ParseStream, which: &str) -> syn::Result<LitInt> {
    let written = dims.fork().parse::<TokenTree>().ok();
    dims.parse().map_err(|e| {
        let mut msg =
            format!("expected the {which} width as an integer literal, as in `(64 -> 10)`");
        if let Some(tt) = written {
            msg +=
                &format!("; `network!` computes shapes from the literal, so it cannot read `{tt}`");
        }
        syn::Error::new(e.span(), msg)
    })
}

/// A comma-separated layer list. Never fails: an entry that does not parse
/// becomes an `Err` in the list, and parsing resumes after the next comma.
fn layer_list(input: ParseStream) -> syn::Result<Vec<syn::Result<LayerAst>>> {
    let mut layers = Vec::new();
    while !input.is_empty() {
        let layer = input.call(LayerAst::parse);
        let failed = layer.is_err();
        layers.push(layer);
        if failed {
            skip_to_comma(input)?;
        } else if !input.is_empty() && !input.peek(Token![,]) {
            layers.push(Err(
                input.error("expected `,` between layers, as in `Dense<8>, Relu`")
            ));
            skip_to_comma(input)?;
        }
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(layers)
}

fn skip_to_comma(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

impl Parse for LayerAst {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a layer: `Dense<N>`, an activation such as `Relu`, or `Residual { ... }`",
            )
        })?;
        let generics = if input.peek(Token![<]) {
            Some(angle_list(input, &name)?)
        } else {
            None
        };
        let args = if input.peek(syn::token::Paren) {
            let group: Group = input.parse()?;
            Some(Args {
                items: split_items(group.stream()),
                tokens: group.into_token_stream(),
            })
        } else {
            None
        };
        let body = if input.peek(syn::token::Brace) {
            let group: Group = input.parse()?;
            Some(Body {
                span: group.span(),
                layers: layer_list.parse2(group.stream())?,
            })
        } else {
            None
        };
        Ok(LayerAst {
            name,
            generics,
            args,
            body,
        })
    }
}

/// `<...>` after a name. Angle brackets are not a token group, so the
/// closing `>` is found by counting; nested `<`/`>` pairs stay inside.
fn angle_list(input: ParseStream, name: &Ident) -> syn::Result<Args> {
    let open: Token![<] = input.parse()?;
    let mut tokens = open.into_token_stream();
    let mut inner = TokenStream::new();
    let mut depth = 1usize;
    while !input.is_empty() {
        let tt: TokenTree = input.parse()?;
        if let TokenTree::Punct(p) = &tt {
            match p.as_char() {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
        }
        tokens.extend([tt.clone()]);
        if depth == 0 {
            return Ok(Args {
                items: split_items(inner),
                tokens,
            });
        }
        inner.extend([tt]);
    }
    Err(syn::Error::new(
        open.span,
        format!("this `<` after `{name}` is never closed; write `{name}<N>`"),
    ))
}

/// Splits a list's tokens at top-level commas (groups stay whole) into
/// items. A trailing comma is allowed.
fn split_items(stream: TokenStream) -> Vec<Arg> {
    let mut items = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    for tt in stream {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                if current.is_empty() {
                    // `(a, , b)`: point at the comma that has nothing before it.
                    current.push(tt);
                    items.push(Arg {
                        name: None,
                        value: ArgValue {
                            kind: ValueKind::Other,
                            tokens: TokenStream::new(),
                        },
                        tokens: current.drain(..).collect(),
                    });
                } else {
                    items.push(arg(std::mem::take(&mut current)));
                }
            }
            _ => current.push(tt),
        }
    }
    if !current.is_empty() {
        items.push(arg(current));
    }
    items
}

/// One item: an optional `name =` (a single `=`, not `==`), then the value.
fn arg(tokens: Vec<TokenTree>) -> Arg {
    let all: TokenStream = tokens.iter().cloned().collect();
    let named = match (tokens.first(), tokens.get(1), tokens.get(2)) {
        (Some(TokenTree::Ident(n)), Some(TokenTree::Punct(eq)), next) if eq.as_char() == '=' => {
            let doubled = matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == '=');
            (!doubled).then(|| n.clone())
        }
        _ => None,
    };
    let value_tokens = if named.is_some() {
        &tokens[2..]
    } else {
        &tokens[..]
    };
    Arg {
        name: named,
        value: ArgValue {
            kind: classify(value_tokens),
            tokens: value_tokens.iter().cloned().collect(),
        },
        tokens: all,
    }
}

/// Recognises `12`, `-0.5`, `true` and `false`; anything else is `Other`.
fn classify(tokens: &[TokenTree]) -> ValueKind {
    let (negative, rest) = match tokens {
        [TokenTree::Punct(p), rest @ ..] if p.as_char() == '-' => (true, rest),
        _ => (false, tokens),
    };
    let sign = if negative { -1.0 } else { 1.0 };
    match rest {
        [TokenTree::Literal(lit)] => match syn::Lit::new(lit.clone()) {
            syn::Lit::Int(i) => number(i.base10_parse(), sign, true),
            syn::Lit::Float(f) => number(f.base10_parse(), sign, false),
            _ => ValueKind::Other,
        },
        [TokenTree::Ident(i)] if !negative && i == "true" => ValueKind::Bool(true),
        [TokenTree::Ident(i)] if !negative && i == "false" => ValueKind::Bool(false),
        // A value passed through another macro as `$x:literal` or `$x:expr`
        // arrives wrapped in an invisible group.
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            match classify(&inner) {
                ValueKind::Number { value, integer } => ValueKind::Number {
                    value: sign * value,
                    integer,
                },
                other if !negative => other,
                _ => ValueKind::Other,
            }
        }
        _ => ValueKind::Other,
    }
}

fn number(parsed: syn::Result<f64>, sign: f64, integer: bool) -> ValueKind {
    match parsed {
        Ok(v) => ValueKind::Number {
            value: sign * v,
            integer,
        },
        Err(_) => ValueKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn layers(tokens: TokenStream) -> Vec<syn::Result<LayerAst>> {
        layer_list.parse2(tokens).unwrap()
    }

    #[test]
    fn any_name_with_brackets_parses_as_a_layer() {
        let list = layers(quote!(Dense<64, bias = false>, Foo<N>(x) { Relu }, Elu(-1)));
        assert_eq!(list.len(), 3);
        let dense = list[0].as_ref().unwrap();
        let g = dense.generics.as_ref().unwrap();
        assert_eq!(g.items.len(), 2);
        assert!(matches!(
            g.items[0].value.kind,
            ValueKind::Number {
                value: 64.0,
                integer: true
            }
        ));
        assert_eq!(g.items[1].name.as_ref().unwrap(), "bias");
        assert!(matches!(g.items[1].value.kind, ValueKind::Bool(false)));
        let foo = list[1].as_ref().unwrap();
        assert!(foo.generics.is_some() && foo.args.is_some() && foo.body.is_some());
        let elu = list[2].as_ref().unwrap();
        assert!(matches!(
            elu.args.as_ref().unwrap().items[0].value.kind,
            ValueKind::Number {
                value: -1.0,
                integer: true
            }
        ));
    }

    #[test]
    fn a_syntax_error_takes_the_place_of_its_layer_only() {
        let list = layers(quote!(Dense<4>, 42, Relu Tanh, Sigmoid));
        let ok: Vec<bool> = list.iter().map(|l| l.is_ok()).collect();
        // `42` is not a layer; `Tanh` lacks the comma before it.
        assert_eq!(ok, [true, false, true, false, true]);
    }

    #[test]
    fn nested_angle_brackets_stay_inside_and_unclosed_ones_fail() {
        let list = layers(quote!(Dense<Foo<3>>, Relu));
        assert_eq!(list.len(), 2);
        assert!(list[1].is_ok());
        let list = layers(quote!(Dense < 64, Relu, Dense<2>));
        assert_eq!(list.len(), 1);
        assert!(list[0].is_err());
    }

    #[test]
    fn equality_is_not_a_named_argument() {
        let list = layers(quote!(Elu(a == 1)));
        let args = list[0].as_ref().unwrap().args.as_ref().unwrap();
        assert!(args.items[0].name.is_none());
        assert!(matches!(args.items[0].value.kind, ValueKind::Other));
    }
}
