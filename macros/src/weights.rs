//! `network_with_weights!`: a network declared as with `network!`, plus
//! its trained weights read from a safetensors file at compile time and
//! emitted as constant data.
//!
//! The declaration goes through the same parse, validate and expand
//! stages as `network!`; this module only takes the `#[weights = "..."]`
//! attribute off first and adds the `BakedWeights` implementations after.

mod bake;
mod format;

use crate::parse::{Input, NetDecl};
use crate::{expand, fallback, validate};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Expr, ExprLit, Lit, LitStr, Meta};

pub fn network_with_weights(input: TokenStream) -> TokenStream {
    let mut input: Input = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut out = TokenStream::new();
    for decl in &mut input.nets {
        let source = take_weights_attr(decl);
        let mut errors = validate::Errors::default();
        let checked = validate::validate(decl, &mut errors);
        match (checked, errors.into_error()) {
            (Some(net), None) => {
                out.extend(expand::expand(&input.krate, &decl.vis, &decl.name, &net));
                let baked = source.and_then(|path| bake::bake(&input.krate, decl, &net, &path));
                out.extend(match baked {
                    Ok(tokens) => tokens,
                    Err(err) => {
                        let mut tokens = err.to_compile_error();
                        tokens.extend(zero_weights(&input.krate, decl));
                        tokens
                    }
                });
            }
            (_, Some(err)) => {
                out.extend(err.to_compile_error());
                if let Err(e) = source {
                    out.extend(e.to_compile_error());
                }
                // The stand-in architecture already has (zero) baked
                // weights, from the runtime crate.
                out.extend(fallback::fallback(&input.krate, decl));
            }
            (None, None) => unreachable!("validation fails only with an error"),
        }
    }
    out
}

/// Removes `#[weights = "path"]` from the declaration's attributes and
/// returns the path.
fn take_weights_attr(decl: &mut NetDecl) -> syn::Result<LitStr> {
    let mut found: Option<syn::Result<LitStr>> = None;
    let mut kept = Vec::new();
    for attr in decl.attrs.drain(..) {
        if !attr.path().is_ident("weights") {
            kept.push(attr);
            continue;
        }
        let this = match &attr.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(path),
                    ..
                }) => Ok(path.clone()),
                other => Err(syn::Error::new_spanned(
                    other,
                    "expected the file's path as a string, as in \
                     `#[weights = \"weights.safetensors\"]`",
                )),
            },
            _ => Err(syn::Error::new_spanned(
                &attr,
                "expected `#[weights = \"file.safetensors\"]`, the path relative to this \
                 source file",
            )),
        };
        found = Some(match found {
            None => this,
            Some(_) => Err(syn::Error::new_spanned(
                &attr,
                "`#[weights = ...]` is given twice; keep one",
            )),
        });
    }
    decl.attrs = kept;
    found.unwrap_or_else(|| {
        Err(syn::Error::new(
            decl.name.span(),
            format!(
                "`network_with_weights!` needs the weights file of `{}`: add \
                 `#[weights = \"file.safetensors\"]` (relative to this source file), or declare \
                 it with `network!`",
                decl.name
            ),
        ))
    })
}

/// `BakedWeights` implementations with zero weights, emitted next to an
/// error so that uses of `Name::BAKED` do not add errors of their own.
fn zero_weights(k: &TokenStream, decl: &NetDecl) -> TokenStream {
    let arch = format_ident!("{}Arch", decl.name);
    let prim = quote!(#k::__private::core::primitive);
    let impls = [quote!(#prim::f32), quote!(#prim::f64)].map(|t| {
        quote! {
            impl #k::io::BakedWeights<#t> for #arch {
                const NETWORK: #k::Network<Self, #t> = #k::Network::ZERO;
            }
        }
    });
    quote!(#(#impls)*)
}
