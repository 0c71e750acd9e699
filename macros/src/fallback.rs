//! What a declaration with errors expands to besides its errors: the same
//! type names, over a stand-in architecture with the declared widths, so
//! the code using the network still type-checks and the user sees the
//! real mistake instead of a cascade of "cannot find type" errors.

use crate::parse::NetDecl;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub fn fallback(k: &TokenStream, decl: &NetDecl) -> TokenStream {
    let vis = &decl.vis;
    let name = &decl.name;
    let tape = format_ident!("{}Tape", name);
    let arch = format_ident!("{}Arch", name);
    // Widths that did not parse fall back to 1; the error is already out. A
    // declared 0 stays 0, so code written against it type-checks.
    let w = |lit: &syn::LitInt| lit.base10_parse::<usize>().ok().unwrap_or(1);
    let (i, o) = (w(&decl.input), w(&decl.output));
    quote! {
        #vis type #arch = #k::__private::Fallback<#i, #o>;
        #vis type #name<T = #k::__private::core::primitive::f32> = #k::__private::Network<#arch, T>;
        #vis type #tape<T = #k::__private::core::primitive::f32, const B: #k::__private::core::primitive::usize = 1> =
            #k::__private::Tape<#arch, T, { B }>;
    }
}
