//! Stage 1: tokens into a typed AST that keeps every token's span.
//!
//! Parsing is deliberately permissive about names and arguments: any
//! identifier is accepted as a layer here, so that validation can report
//! every mistake of a declaration in one compile, each at its own token.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, parenthesized, Attribute, Ident, LitBool, LitInt, Token, Visibility};

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
    pub layers: Vec<LayerAst>,
}

/// One entry of a layer list, as written.
pub enum LayerAst {
    /// `Dense<N>` or `Dense<N, bias = false>` (or `Dense` with no width).
    Dense {
        kw: Ident,
        width: Option<LitInt>,
        bias: Option<LitBool>,
    },
    /// `Residual { layers }`
    Residual {
        kw: Ident,
        body_span: Span,
        body: Vec<LayerAst>,
    },
    /// Any other name, optionally with `(args)`: an activation, or a mistake.
    Named {
        name: Ident,
        args: Option<Args>,
    },
}

/// `(a, b)` or `(name = a, name = b)` after an activation.
pub struct Args {
    pub span: Span,
    pub items: Vec<Arg>,
}

/// One argument: `value` or `name = value`.
pub struct Arg {
    pub name: Option<Ident>,
    pub value: ArgValue,
}

/// An argument's value: a number literal (possibly negated) or anything
/// else, which validation rejects.
pub enum ArgValue {
    Number { value: f64, span: Span },
    Other { span: Span },
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // The wrapper macro passes `$crate ;` first.
        let mut krate = TokenStream::new();
        while !input.peek(Token![;]) {
            let tt: proc_macro2::TokenTree = input.parse()?;
            krate.extend([tt]);
        }
        input.parse::<Token![;]>()?;
        let mut nets = Vec::new();
        while !input.is_empty() {
            nets.push(input.parse()?);
        }
        if nets.is_empty() {
            return Err(input.error(
                "expected a network declaration: `struct Name(IN -> OUT) { Dense<N>, Relu, ... }`",
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
        let dims;
        parenthesized!(dims in input);
        let input_width: LitInt = dims.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the input width as an integer literal, as in `(64 -> 10)`",
            )
        })?;
        dims.parse::<Token![->]>()?;
        let output_width: LitInt = dims.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the output width as an integer literal, as in `(64 -> 10)`",
            )
        })?;
        if !dims.is_empty() {
            return Err(dims.error("unexpected tokens after the output width"));
        }
        let body;
        let brace = braced!(body in input);
        let layers = parse_layers(&body)?;
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
            body_span: brace.span.join(),
            layers,
        })
    }
}

fn parse_layers(input: ParseStream) -> syn::Result<Vec<LayerAst>> {
    let list = Punctuated::<LayerAst, Token![,]>::parse_terminated(input)?;
    Ok(list.into_iter().collect())
}

impl Parse for LayerAst {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a layer: `Dense<N>`, an activation such as `Relu`, or `Residual { ... }`",
            )
        })?;
        if name == "Dense" {
            if !input.peek(Token![<]) {
                return Ok(LayerAst::Dense {
                    kw: name,
                    width: None,
                    bias: None,
                });
            }
            input.parse::<Token![<]>()?;
            let width: LitInt = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the layer width as an integer literal, as in `Dense<64>`",
                )
            })?;
            let mut bias = None;
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
                let key: Ident = input.parse()?;
                if key != "bias" {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{key}` of Dense; the only option is `bias = false`"),
                    ));
                }
                input.parse::<Token![=]>()?;
                bias = Some(input.parse::<LitBool>().map_err(|e| {
                    syn::Error::new(e.span(), "expected `true` or `false`, as in `Dense<64, bias = false>`")
                })?);
            }
            input.parse::<Token![>]>()?;
            return Ok(LayerAst::Dense {
                kw: name,
                width: Some(width),
                bias,
            });
        }
        if name == "Residual" && input.peek(syn::token::Brace) {
            let body;
            let brace = braced!(body in input);
            return Ok(LayerAst::Residual {
                kw: name,
                body_span: brace.span.join(),
                body: parse_layers(&body)?,
            });
        }
        let args = if input.peek(syn::token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            let items = Punctuated::<Arg, Token![,]>::parse_terminated(&content)?;
            Some(Args {
                span: paren.span.join(),
                items: items.into_iter().collect(),
            })
        } else {
            None
        };
        Ok(LayerAst::Named { name, args })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = if input.peek(Ident) && input.peek2(Token![=]) {
            let n: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Some(n)
        } else {
            None
        };
        Ok(Arg {
            name,
            value: input.parse()?,
        })
    }
}

impl Parse for ArgValue {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let start = input.span();
        let negative = if input.peek(Token![-]) {
            input.parse::<Token![-]>()?;
            true
        } else {
            false
        };
        let sign = if negative { -1.0 } else { 1.0 };
        if input.peek(syn::LitFloat) {
            let lit: syn::LitFloat = input.parse()?;
            let span = lit.span();
            return match lit.base10_parse::<f64>() {
                Ok(v) => Ok(ArgValue::Number {
                    value: sign * v,
                    span,
                }),
                Err(_) => Ok(ArgValue::Other { span }),
            };
        }
        if input.peek(LitInt) {
            let lit: LitInt = input.parse()?;
            let span = lit.span();
            return match lit.base10_parse::<f64>() {
                Ok(v) => Ok(ArgValue::Number {
                    value: sign * v,
                    span,
                }),
                Err(_) => Ok(ArgValue::Other { span }),
            };
        }
        // Anything else up to the next comma is collected and rejected
        // later, with a message about what is expected.
        let mut span = start;
        let mut first = true;
        while !input.is_empty() && !input.peek(Token![,]) {
            let tt: proc_macro2::TokenTree = input.parse()?;
            if first {
                span = tt.span();
                first = false;
            }
        }
        Ok(ArgValue::Other { span })
    }
}
