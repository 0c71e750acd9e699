//! Activations: their names and the checking of their arguments.

use super::{value_or_item, Act, Errors};
use crate::parse::{Args, ValueKind};
use syn::Ident;

/// Names of the activations, as accepted (PyTorch spellings are aliases).
pub(super) const ACTIVATIONS: &[(&str, &str)] = &[
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

/// The activation `canonical` with its arguments checked, or `None` after
/// reporting what is wrong with them.
pub(super) fn checked(
    name: &Ident,
    canonical: &str,
    args: Option<&Args>,
    errors: &mut Errors,
) -> Option<Act> {
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
        errors.push_spanned(
            &args.tokens,
            format!("`{name}` takes no arguments; write `{name}` alone"),
        );
        return None;
    }
    let usage = usage(canonical, params);
    let mut given = vec![false; params.len()];
    let mut ok = true;
    for (pos, arg) in args.items.iter().enumerate() {
        let index = match &arg.name {
            Some(key) => match params.iter().position(|p| key == p.0) {
                Some(i) => i,
                None => {
                    errors.push(
                        key.span(),
                        format!("`{name}` has no parameter `{key}`; write {usage}"),
                    );
                    ok = false;
                    continue;
                }
            },
            None if pos >= params.len() => {
                // Point once at every extra argument.
                let extra: proc_macro2::TokenStream =
                    args.items[pos..].iter().map(|a| a.tokens.clone()).collect();
                let n = params.len();
                errors.push_spanned(
                    extra,
                    format!(
                        "too many arguments: `{name}` takes {n} argument{}, as in {usage}; \
                         remove the rest",
                        if n == 1 { "" } else { "s" }
                    ),
                );
                return None;
            }
            None => pos,
        };
        let pname = params[index].0;
        if given[index] {
            errors.push_spanned(
                &arg.tokens,
                format!("`{pname}` of `{name}` is given twice; keep one"),
            );
            ok = false;
            continue;
        }
        given[index] = true;
        match arg.value.kind {
            ValueKind::Number { value, .. } if !value.is_finite() => {
                errors.push_spanned(
                    &arg.value.tokens,
                    format!("`{pname}` of `{name}` must be a finite number, as in {usage}"),
                );
                ok = false;
            }
            ValueKind::Number { value, .. }
                if (pname == "beta" || pname == "threshold") && value <= 0.0 =>
            {
                errors.push_spanned(
                    &arg.value.tokens,
                    format!(
                        "`{pname}` of `{name}` must be positive, got {}; the default is \
                         {usage}",
                        fmt_f64(value)
                    ),
                );
                ok = false;
            }
            ValueKind::Number { value, .. } => values[index] = value,
            ValueKind::Bool(_) | ValueKind::Other => {
                errors.push_spanned(
                    value_or_item(arg),
                    format!("`{pname}` of `{name}` must be a number literal, as in {usage}"),
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

#[cfg(test)]
mod tests {
    use super::super::tests::check;
    use super::super::Node;
    use super::*;
    use quote::quote;

    #[test]
    fn arguments_are_matched_by_position_and_name() {
        let (net, errors) = check(quote!(struct N(2 -> 2) {
            Softplus(2, threshold = 10.0), LeakyRelu(-0.5), Elu
        }));
        assert!(errors.is_empty(), "{errors:?}");
        let acts: Vec<Act> = net
            .unwrap()
            .nodes
            .into_iter()
            .map(|n| match n {
                Node::Act { act, .. } => act,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            acts,
            [
                Act::Softplus {
                    beta: 2.0,
                    threshold: 10.0
                },
                Act::LeakyRelu { slope: -0.5 },
                Act::Elu { alpha: 1.0 }
            ]
        );
    }

    #[test]
    fn an_argument_given_twice_is_an_error() {
        let (_, errors) = check(quote!(struct N(2 -> 2) { Softplus(threshold = 1.0, 2.0) }));
        assert_eq!(
            errors,
            ["`threshold` of `Softplus` is given twice; keep one"]
        );
    }
}
