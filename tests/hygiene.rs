//! `network!` relies on no name of the caller's scope: the generated code
//! reaches the runtime only through the path the wrapper macro passes in
//! (`$crate`), so it works with the crate imported under another name,
//! next to items that shadow the prelude and the runtime's own names,
//! without the prelude at all, inside a function body, and with any
//! visibility.
//!
//! The same network is declared in each of those places; every copy must
//! compute exactly what a plain declaration computes.

// The crate is only ever named `sn` here; the macro goes by `declare`.
extern crate staticnet as sn;

use sn::network as declare;

declare! {
    /// The reference: a plain declaration at the crate root.
    struct Plain(3 -> 2) {
        Dense<5>, Tanh,
        Residual { Dense<5, bias = false>, LeakyRelu(0.1), Dense<5> },
        Softplus(beta = 2.0), Dense<2>,
    }
}

/// Items named like everything the generated code uses, so that any path
/// it does not spell out in full resolves to one of these and fails.
#[allow(dead_code, non_camel_case_types, clippy::all)]
mod shadowed {
    // The crate and the standard library under the names code would use.
    mod staticnet {}
    mod sn {}
    mod core {}
    mod std {}
    mod alloc {}
    mod typenum {}
    mod generic_array {}

    // Prelude names.
    struct Option;
    struct Some;
    struct None;
    type Result = ();
    struct Ok;
    struct Err;
    struct Vec;
    struct Box;
    struct String;
    trait Clone {}
    trait Copy {}
    trait Debug {}
    trait PartialEq {}
    trait Eq {}
    trait Default {}
    trait Sized {}
    trait Iterator {}
    trait From {}
    trait Into {}
    trait AsRef {}
    trait AsMut {}

    // The runtime's public names.
    trait Scalar {}
    trait Architecture {}
    trait Zeroable {}
    trait Row {}
    struct Network;
    struct Tape;
    struct Layer;
    struct DenseLayout;
    struct DenseRef;
    struct DenseMut;
    struct ActivationKind;
    struct Error;
    struct Init;
    struct GenericArray;

    // Value-namespace items named like the primitive types.
    fn f32() {}
    fn f64() {}
    fn usize() {}
    fn bool() {}

    super::declare! {
        /// `Plain`, declared among the shadows.
        pub(crate) struct Shadowed(3 -> 2) {
            Dense<5>, Tanh,
            Residual { Dense<5, bias = false>, LeakyRelu(0.1), Dense<5> },
            Softplus(beta = 2.0), Dense<2>,
        }
    }
}

/// Types named like the generated code's generic parameters and like the
/// primitive types, and constants named like its locals: none of them may
/// change what the generated code means.
#[allow(dead_code, non_camel_case_types, non_upper_case_globals)]
mod shadowed_names {
    struct T;
    struct B;
    struct f32;
    struct f64;
    struct usize;
    struct bool;
    struct str;

    const params: u8 = 0;
    const input: u8 = 0;
    const output: u8 = 0;
    const acts: u8 = 0;
    const scratch: u8 = 0;
    const grads: u8 = 0;
    const grad_input: u8 = 0;
    const grad_output: u8 = 0;
    const w: u8 = 0;
    const b: u8 = 0;
    const rest: u8 = 0;
    const dw: u8 = 0;
    const db: u8 = 0;
    const gi: u8 = 0;
    const s0: u8 = 0;
    const s1: u8 = 0;

    super::declare! {
        /// `Plain`, declared among shadowing names.
        pub(crate) struct Names(3 -> 2) {
            Dense<5>, Tanh,
            Residual { Dense<5, bias = false>, LeakyRelu(0.1), Dense<5> },
            Softplus(beta = 2.0), Dense<2>,
        }
    }
}

/// Without the prelude the generated code must still find everything.
#[allow(dead_code)]
#[no_implicit_prelude]
mod bare {
    super::declare! {
        /// `Plain`, declared where no prelude name exists.
        pub(crate) struct Bare(3 -> 2) {
            Dense<5>, Tanh,
            Residual { Dense<5, bias = false>, LeakyRelu(0.1), Dense<5> },
            Softplus(beta = 2.0), Dense<2>,
        }
    }
}

/// Restricted visibility is passed through to every generated item: the
/// network, its tape and its layer views are usable from the crate root.
mod nested {
    pub(crate) mod deeper {
        super::super::declare! {
            /// `Plain` again, visible to the whole crate.
            pub(crate) struct Restricted(3 -> 2) {
                Dense<5>, Tanh,
                Residual { Dense<5, bias = false>, LeakyRelu(0.1), Dense<5> },
                Softplus(beta = 2.0), Dense<2>,
            }
        }
    }
}

const SEED: u64 = 11;
const INPUT: [[f32; 3]; 2] = [[0.5, -1.0, 2.0], [-0.3, 0.8, 0.1]];
const GRAD_OUTPUT: [[f32; 2]; 2] = [[1.0, -0.5], [0.25, 2.0]];

/// Output, parameter gradients and input gradient of one training step on
/// a fixed batch: what every copy of the network must reproduce.
struct Step {
    output: [[f32; 2]; 2],
    grads: Vec<f32>,
    grad_input: [[f32; 3]; 2],
    params: Vec<f32>,
}

/// Runs one step of a freshly seeded network of any architecture with the
/// widths 3 -> 2, through the public API only.
fn step<A: sn::Architecture<Input<f32> = [f32; 3], Output<f32> = [f32; 2]>>() -> Step {
    let net = sn::Network::<A, f32>::seeded(SEED);
    let mut grads = sn::Network::<A, f32>::zeroed();
    let mut tape = sn::Tape::<A, f32, 2>::new();
    let output = *net.forward(&INPUT, &mut tape);
    let mut grad_input = [[0.0; 3]; 2];
    net.backward_with_input_grad(&mut tape, &GRAD_OUTPUT, &mut grads, &mut grad_input)
        .unwrap();
    let mut inferred = [[0.0; 2]; 2];
    net.infer(&INPUT, &mut inferred);
    assert_eq!(
        inferred,
        output,
        "{}: infer disagrees with forward",
        A::NAME
    );
    Step {
        output,
        grads: grads.params().to_vec(),
        grad_input,
        params: net.params().to_vec(),
    }
}

fn assert_same(reference: &Step, other: &Step, name: &str) {
    assert_eq!(reference.params, other.params, "{name}: parameters");
    assert_eq!(reference.output, other.output, "{name}: output");
    assert_eq!(reference.grads, other.grads, "{name}: parameter gradients");
    assert_eq!(
        reference.grad_input, other.grad_input,
        "{name}: input gradient"
    );
}

#[test]
fn the_reference_step_is_not_trivial() {
    // Guards the comparisons below: an all-zero step would match anything.
    let plain = step::<PlainArch>();
    assert_eq!(
        plain.params.len(),
        (3 * 5 + 5) + 5 * 5 + (5 * 5 + 5) + (5 * 2 + 2)
    );
    assert!(plain.output.iter().flatten().all(|y| y.is_finite()));
    assert!(plain.grads.iter().filter(|g| **g != 0.0).count() > plain.grads.len() / 2);
    assert!(plain.grad_input.iter().flatten().any(|g| *g != 0.0));
}

#[test]
fn a_declaration_among_shadowing_items_computes_the_same() {
    assert_same(
        &step::<PlainArch>(),
        &step::<shadowed::ShadowedArch>(),
        "Shadowed",
    );
}

#[test]
fn generic_parameter_primitive_and_local_names_cannot_be_shadowed() {
    assert_same(
        &step::<PlainArch>(),
        &step::<shadowed_names::NamesArch>(),
        "Names",
    );
}

#[test]
fn a_declaration_without_the_prelude_computes_the_same() {
    assert_same(&step::<PlainArch>(), &step::<bare::BareArch>(), "Bare");
}

#[test]
fn restricted_visibility_reaches_every_generated_item() {
    use nested::deeper::{Restricted, RestrictedArch, RestrictedLayers, RestrictedTape};
    assert_same(
        &step::<PlainArch>(),
        &step::<RestrictedArch>(),
        "Restricted",
    );

    let mut net: Restricted = Restricted::seeded(SEED);
    let mut tape: RestrictedTape<f32, 2> = RestrictedTape::new();
    let reference: Plain = Plain::seeded(SEED);
    assert_eq!(*net.forward(&INPUT, &mut tape), step::<PlainArch>().output);
    let layers: RestrictedLayers<'_, f32> = net.layers();
    assert_eq!(
        layers.dense1.bias(),
        None,
        "the residual's first layer has no bias"
    );
    assert_eq!(
        layers.dense3.weight(1, 4),
        reference.layers().dense3.weight(1, 4)
    );
    net.layers_mut().dense3.set_weight(1, 4, 7.5);
    assert_eq!(net.layers().dense3.weight(1, 4), 7.5);
}

#[test]
fn a_declaration_in_a_function_body_works_like_any_other() {
    declare! {
        /// `Plain`, local to this test.
        struct Local(3 -> 2) {
            Dense<5>, Tanh,
            Residual { Dense<5, bias = false>, LeakyRelu(0.1), Dense<5> },
            Softplus(beta = 2.0), Dense<2>,
        }
    }
    assert_same(&step::<PlainArch>(), &step::<LocalArch>(), "Local");
    let net: Local = Local::seeded(SEED);
    assert_eq!(net.predict(&INPUT[1]), step::<PlainArch>().output[1]);
}
