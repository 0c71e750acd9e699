//! Reading a checked network's weights from a safetensors file and
//! emitting them as constants.

use super::format::dtype::float_at;
use super::format::header::{self, HeaderError, TensorInfo};
use crate::parse::{LayerAst, NetDecl};
use crate::validate::{Net, Node};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote};
use std::path::PathBuf;
use syn::LitStr;

/// One dense layer: where its parameters go and what the file must hold.
struct Slot {
    weight: String,
    bias: Option<String>,
    inputs: usize,
    outputs: usize,
    offset: usize,
    /// The layer as written, for errors.
    tokens: TokenStream,
}

/// The `BakedWeights` implementations of `net`, with the weights of the
/// file `path` names; every mismatch between file and declaration is an
/// error at the layer (or at the path, for what no layer owns).
pub fn bake(k: &TokenStream, decl: &NetDecl, net: &Net, path: &LitStr) -> syn::Result<TokenStream> {
    let file = resolve(path)?;
    let shown = path.value();
    let bytes = std::fs::read(&file).map_err(|e| {
        syn::Error::new(
            path.span(),
            format!("cannot read the weights file `{shown}` (relative to this source file): {e}"),
        )
    })?;
    let header = header::parse(&bytes).map_err(|e| {
        syn::Error::new(
            path.span(),
            format!(
                "`{shown}` is not a valid safetensors file: {}",
                describe(&e)
            ),
        )
    })?;

    let mut slots = Vec::new();
    collect_slots(&decl.layers, &net.nodes, "", &mut slots);
    let mut values = vec![0.0f64; net.params];
    let mut used = vec![false; header.tensors.len()];
    let mut errors: Vec<syn::Error> = Vec::new();
    for slot in &slots {
        let expected = [slot.outputs, slot.inputs];
        match take(
            &header.tensors,
            &mut used,
            &slot.weight,
            &expected,
            &shown,
            slot,
        ) {
            Ok(t) => {
                // PyTorch's weight[o][i] is stored at offset + i * outputs + o.
                for o in 0..slot.outputs {
                    for i in 0..slot.inputs {
                        values[slot.offset + i * slot.outputs + o] =
                            element(&bytes, t, o * slot.inputs + i);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
        if let Some(bias) = &slot.bias {
            match take(
                &header.tensors,
                &mut used,
                bias,
                &[slot.outputs],
                &shown,
                slot,
            ) {
                Ok(t) => {
                    let at = slot.offset + slot.inputs * slot.outputs;
                    for (o, v) in values[at..at + slot.outputs].iter_mut().enumerate() {
                        *v = element(&bytes, t, o);
                    }
                }
                Err(e) => errors.push(e),
            }
        }
    }
    for (t, used) in header.tensors.iter().zip(&used) {
        if !*used {
            errors.push(syn::Error::new(
                path.span(),
                format!(
                    "tensor `{}` in `{shown}` belongs to no layer of `{}`; the file must hold \
                     exactly the network's parameters, named as PyTorch names an \
                     `nn.Sequential` of the same layers",
                    t.name, decl.name
                ),
            ));
        }
    }
    let mut errors = errors.into_iter();
    if let Some(mut first) = errors.next() {
        first.extend(errors);
        return Err(first);
    }

    let arch = format_ident!("{}Arch", decl.name);
    let prim = quote!(#k::__private::core::primitive);
    let f32s = values.iter().map(|&v| f32_token(k, v as f32));
    let f64s = values.iter().map(|&v| f64_token(k, v));
    // Reading the file through `include_bytes!` makes the compiler rebuild
    // the crate when the file changes; the constant itself is never used.
    let tracked = file
        .canonicalize()
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned();
    Ok(quote! {
        #[allow(clippy::all)]
        impl #k::io::BakedWeights<#prim::f32> for #arch {
            const NETWORK: #k::Network<Self, #prim::f32> = #k::Network::from_array([#(#f32s),*]);
        }
        #[allow(clippy::all)]
        impl #k::io::BakedWeights<#prim::f64> for #arch {
            const NETWORK: #k::Network<Self, #prim::f64> = #k::Network::from_array([#(#f64s),*]);
        }
        const _: &[#prim::u8] = #k::__private::core::include_bytes!(#tracked);
    })
}

/// The file `path` names, relative to the source file it is written in.
fn resolve(path: &LitStr) -> syn::Result<PathBuf> {
    let written = PathBuf::from(path.value());
    if written.is_absolute() {
        return Ok(written);
    }
    match path.span().unwrap().local_file() {
        Some(source) => Ok(source
            .parent()
            .map(|dir| dir.join(&written))
            .unwrap_or(written)),
        None => Err(syn::Error::new(
            path.span(),
            "cannot tell which source file this declaration is in, so the relative path \
             cannot be resolved; give an absolute path",
        )),
    }
}

/// The dense layers of a checked declaration, with their sequential
/// names. `layers` and `nodes` correspond one to one: a declaration that
/// passed validation has one node per entry.
fn collect_slots(
    layers: &[syn::Result<LayerAst>],
    nodes: &[Node],
    prefix: &str,
    out: &mut Vec<Slot>,
) {
    for (index, node) in nodes.iter().enumerate() {
        let ast = layers.get(index).and_then(|l| l.as_ref().ok());
        match node {
            Node::Dense {
                inputs,
                outputs,
                bias,
                offset,
            } => {
                let module = format!("{prefix}{index}");
                let tokens = match ast {
                    Some(ast) => {
                        let name = &ast.name;
                        let generics = ast.generics.as_ref().map(|g| &g.tokens);
                        quote!(#name #generics)
                    }
                    None => quote!(),
                };
                out.push(Slot {
                    weight: format!("{module}.weight"),
                    bias: bias.then(|| format!("{module}.bias")),
                    inputs: *inputs,
                    outputs: *outputs,
                    offset: *offset,
                    tokens,
                });
            }
            Node::Act { .. } => {}
            Node::Residual { body, .. } => {
                let inner = ast
                    .and_then(|a| a.body.as_ref())
                    .map_or(&[][..], |b| &b.layers);
                collect_slots(inner, body, &format!("{prefix}{index}.body."), out);
            }
        }
    }
}

/// The tensor `name`, marked used and checked to be a float tensor of
/// shape `expected`; or the error, at the layer.
fn take<'h>(
    tensors: &'h [TensorInfo],
    used: &mut [bool],
    name: &str,
    expected: &[usize],
    file: &str,
    slot: &Slot,
) -> syn::Result<&'h TensorInfo> {
    let error = |message: String| {
        if slot.tokens.is_empty() {
            syn::Error::new(Span::call_site(), message)
        } else {
            syn::Error::new_spanned(&slot.tokens, message)
        }
    };
    let layer = format!("this layer ({} -> {})", slot.inputs, slot.outputs);
    let Some(i) = tensors.iter().position(|t| t.name == name) else {
        return Err(error(format!(
            "`{file}` has no tensor `{name}`; {layer} needs it with shape {expected:?}"
        )));
    };
    // Claimed even when it does not fit, so it is not also reported as
    // belonging to no layer.
    used[i] = true;
    let t = &tensors[i];
    if !t.dtype.is_float() {
        return Err(error(format!(
            "tensor `{name}` in `{file}` is {}; expected F32, F64, F16 or BF16",
            t.dtype.name()
        )));
    }
    if t.shape != expected {
        let what = if expected.len() == 2 {
            "PyTorch's weight is [out, in]"
        } else {
            "a bias has one entry per output"
        };
        return Err(error(format!(
            "tensor `{name}` in `{file}` has shape {:?}, but {layer} needs {expected:?} ({what})",
            t.shape
        )));
    }
    Ok(t)
}

/// Element `i` of a float tensor, exactly as an `f64`.
fn element(bytes: &[u8], t: &TensorInfo, i: usize) -> f64 {
    float_at(t.dtype, &bytes[t.start..t.end], i).unwrap_or(0.0)
}

fn describe(e: &HeaderError) -> String {
    match e {
        HeaderError::Truncated {
            what,
            needed,
            available,
        } => format!("it is truncated ({what} needs {needed} bytes, the file has {available})"),
        HeaderError::TooLarge { len } => {
            format!("its header length {len} is beyond the format's limit")
        }
        HeaderError::Json { offset, message } => {
            format!("its header is corrupt at byte {offset}: {message}")
        }
        HeaderError::Tensor { name, message } => format!("tensor `{name}`: {message}"),
        HeaderError::Layout { message } => message.clone(),
    }
}

fn f32_token(k: &TokenStream, v: f32) -> TokenStream {
    if !v.is_finite() {
        let bits = v.to_bits();
        return quote!(#k::__private::core::primitive::f32::from_bits(#bits));
    }
    let lit = Literal::f32_suffixed(v.abs());
    if v.is_sign_negative() {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

fn f64_token(k: &TokenStream, v: f64) -> TokenStream {
    if !v.is_finite() {
        let bits = v.to_bits();
        return quote!(#k::__private::core::primitive::f64::from_bits(#bits));
    }
    let lit = Literal::f64_suffixed(v.abs());
    if v.is_sign_negative() {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_keep_every_bit() {
        let k = quote!(::sn);
        for v in [1.5f32, -0.0, 1e-40, -3.4e38, 0.1] {
            let text = f32_token(&k, v).to_string().replace(' ', "");
            let parsed: f32 = text.trim_end_matches("f32").parse().unwrap();
            assert_eq!(parsed.to_bits(), v.to_bits(), "{text}");
        }
        let nan = f64_token(&k, f64::NAN).to_string();
        assert!(nan.contains("from_bits"), "{nan}");
    }
}
