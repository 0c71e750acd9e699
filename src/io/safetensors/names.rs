//! Which tensor of a file each dense layer's weight and bias is.

use super::SafetensorsError;
use crate::architecture::{dense_layers, Architecture, Layer};

/// The tensor names of one dense layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerNames {
    /// The weight, PyTorch's `[out, in]` `nn.Linear.weight`.
    pub weight: String,
    /// The bias, for a layer that has one.
    pub bias: Option<String>,
}

/// The tensor names of every dense layer of a network, in order.
///
/// [`TensorNames::sequential`] is the default: the names PyTorch gives
/// the same network written as an `nn.Sequential` (see the
/// [module documentation](super) for residual blocks). For other module
/// trees, rename those ([`TensorNames::map`]) or name each layer's module
/// ([`TensorNames::modules`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorNames {
    layers: Vec<LayerNames>,
}

impl TensorNames {
    /// The names of `A`'s parameters in PyTorch's `nn.Sequential` of the
    /// same layers: the index counts every entry of the declaration,
    /// activations included, so `Dense<16>, Tanh, Dense<1>` is `"0.weight"`,
    /// `"0.bias"`, `"2.weight"`, `"2.bias"`; a `Residual { ... }` at index
    /// `i` is a module whose `body` is an `nn.Sequential` of its layers
    /// (`"i.body.0.weight"`, …).
    pub fn sequential<A: Architecture>() -> Self {
        // The index within the innermost open list, and the prefix of
        // that list's names.
        let mut index = 0usize;
        let mut prefix = String::new();
        let mut open: Vec<(usize, String)> = Vec::new();
        let mut layers = Vec::new();
        for layer in A::LAYERS {
            match layer {
                Layer::Dense(d) => {
                    let module = format!("{prefix}{index}");
                    layers.push(LayerNames {
                        weight: format!("{module}.weight"),
                        bias: d.bias_offset.map(|_| format!("{module}.bias")),
                    });
                    index += 1;
                }
                Layer::Activation(_) => index += 1,
                Layer::ResidualBegin { .. } => {
                    let body = format!("{prefix}{index}.body.");
                    open.push((index, core::mem::replace(&mut prefix, body)));
                    index = 0;
                }
                Layer::ResidualEnd => {
                    let (outer, outer_prefix) = open.pop().unwrap_or_default();
                    index = outer + 1;
                    prefix = outer_prefix;
                }
            }
        }
        TensorNames { layers }
    }

    /// `"{module}.weight"` and `"{module}.bias"` for the `i`-th dense layer
    /// of `A` and the `i`-th module path given, as for a PyTorch module
    /// with named `nn.Linear` attributes (`["fc1", "fc2"]`, or
    /// `["encoder.0", "head"]`).
    ///
    /// # Errors
    ///
    /// [`SafetensorsError::Names`] unless one module is given per dense
    /// layer.
    pub fn modules<A: Architecture>(modules: &[&str]) -> Result<Self, SafetensorsError> {
        let count = dense_layers::<A>().count();
        if modules.len() != count {
            return Err(SafetensorsError::Names {
                message: format!(
                    "{} module paths given, `{}` has {count} dense layers",
                    modules.len(),
                    A::NAME
                ),
            });
        }
        let layers = dense_layers::<A>()
            .zip(modules)
            .map(|(d, module)| LayerNames {
                weight: format!("{module}.weight"),
                bias: d.bias_offset.map(|_| format!("{module}.bias")),
            })
            .collect();
        Ok(TensorNames { layers })
    }

    /// Every name passed through `rename`, as in
    /// `TensorNames::sequential::<A>().map(|n| format!("model.{n}"))`.
    pub fn map(self, mut rename: impl FnMut(&str) -> String) -> Self {
        let layers = self
            .layers
            .into_iter()
            .map(|l| LayerNames {
                weight: rename(&l.weight),
                bias: l.bias.as_deref().map(&mut rename),
            })
            .collect();
        TensorNames { layers }
    }

    /// The names, one entry per dense layer in order.
    pub fn layers(&self) -> &[LayerNames] {
        &self.layers
    }

    /// Checks that these names fit `A`: one entry per dense layer, a bias
    /// name exactly where there is a bias, no name used twice.
    pub(super) fn check<A: Architecture>(&self) -> Result<(), SafetensorsError> {
        let count = dense_layers::<A>().count();
        if self.layers.len() != count {
            return Err(SafetensorsError::Names {
                message: format!(
                    "names for {} dense layers given, `{}` has {count}",
                    self.layers.len(),
                    A::NAME
                ),
            });
        }
        for (i, (d, names)) in dense_layers::<A>().zip(&self.layers).enumerate() {
            if d.bias_offset.is_some() != names.bias.is_some() {
                let has = if d.bias_offset.is_some() {
                    "has a bias but no bias name was given"
                } else {
                    "has no bias but a bias name was given"
                };
                return Err(SafetensorsError::Names {
                    message: format!("dense layer {i} (`{}`) {has}", names.weight),
                });
            }
        }
        let mut all: Vec<&str> = self
            .layers
            .iter()
            .flat_map(|l| core::iter::once(l.weight.as_str()).chain(l.bias.as_deref()))
            .collect();
        all.sort_unstable();
        if let Some(pair) = all.windows(2).find(|p| p[0] == p[1]) {
            return Err(SafetensorsError::DuplicateName {
                name: pair[0].to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::network! {
        struct Nested(4 -> 2) {
            Dense<8>, Relu,
            Residual { Dense<8, bias = false>, Tanh, Residual { Dense<8> }, Dense<8> },
            Sigmoid,
            Dense<2>,
        }
    }

    fn names(t: &TensorNames) -> Vec<String> {
        t.layers()
            .iter()
            .flat_map(|l| std::iter::once(l.weight.clone()).chain(l.bias.clone()))
            .collect()
    }

    #[test]
    fn sequential_counts_every_entry_and_nests_residual_bodies() {
        let t = TensorNames::sequential::<NestedArch>();
        assert_eq!(
            names(&t),
            [
                "0.weight",
                "0.bias",
                "2.body.0.weight",
                "2.body.2.body.0.weight",
                "2.body.2.body.0.bias",
                "2.body.3.weight",
                "2.body.3.bias",
                "4.weight",
                "4.bias",
            ]
        );
        assert_eq!(t.check::<NestedArch>(), Ok(()));
    }

    #[test]
    fn modules_and_map_rename() {
        let t = TensorNames::modules::<NestedArch>(&["a", "b", "c", "d", "e"]).unwrap();
        assert_eq!(names(&t)[..3], ["a.weight", "a.bias", "b.weight"]);
        let t = t.map(|n| format!("net.{n}"));
        assert_eq!(t.layers()[4].bias.as_deref(), Some("net.e.bias"));
        assert!(matches!(
            TensorNames::modules::<NestedArch>(&["a"]),
            Err(SafetensorsError::Names { .. })
        ));
    }

    #[test]
    fn check_refuses_names_that_do_not_fit() {
        let collide = TensorNames::sequential::<NestedArch>().map(|n| {
            if n == "4.weight" {
                "0.weight".to_string()
            } else {
                n.to_string()
            }
        });
        assert_eq!(
            collide.check::<NestedArch>(),
            Err(SafetensorsError::DuplicateName {
                name: "0.weight".into()
            })
        );
        let mut no_bias = TensorNames::sequential::<NestedArch>();
        no_bias.layers[0].bias = None;
        let err = no_bias.check::<NestedArch>().unwrap_err();
        assert!(
            err.to_string().contains("has a bias but no bias name"),
            "{err}"
        );
    }
}
