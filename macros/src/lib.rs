//! The `network!` procedural macro of staticnet. Use it through the
//! `staticnet` crate (`staticnet::network!`), which passes its own path in
//! so that the generated code works however the crate is imported.
//!
//! The macro runs three stages, each in its own module:
//! `parse` (tokens into an AST with spans), `validate` (widths,
//! residual blocks, activation arguments; every error at its token), and
//! `expand` (the generated items), with `fallback` standing in for a
//! declaration that failed so one mistake does not cascade.

use proc_macro::TokenStream;

mod expand;
mod fallback;
mod ir;
mod parse;
mod validate;
mod weights;

/// Implementation of `staticnet::network!`; input is `$crate; declarations`.
#[doc(hidden)]
#[proc_macro]
pub fn network_impl(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as parse::Input);
    let mut out = proc_macro2::TokenStream::new();
    for decl in &input.nets {
        let mut errors = validate::Errors::default();
        let checked = validate::validate(decl, &mut errors);
        match (checked, errors.into_error()) {
            (Some(net), None) => {
                out.extend(expand::expand(&input.krate, &decl.vis, &decl.name, &net))
            }
            (_, Some(err)) => {
                out.extend(err.to_compile_error());
                out.extend(fallback::fallback(&input.krate, decl));
            }
            (None, None) => unreachable!("validation fails only with an error"),
        }
    }
    out.into()
}

/// Implementation of `staticnet::network_with_weights!`; input is `$crate;
/// declarations`, each with `#[weights = "file.safetensors"]`.
#[doc(hidden)]
#[proc_macro]
pub fn network_with_weights_impl(input: TokenStream) -> TokenStream {
    weights::network_with_weights(input.into()).into()
}
