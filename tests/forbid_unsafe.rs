//! Networks declared in a crate that forbids `unsafe` and denies missing
//! docs: the generated code contains no `unsafe` (everything that needs it
//! stays inside the runtime, behind safe functions), and every public item
//! it generates carries documentation, so a documented public network
//! passes `missing_docs`.
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

/// Networks with every kind of layer, as a library would export them.
pub mod nets {
    staticnet::network! {
        /// A residual regressor.
        pub struct Regressor(4 -> 1) {
            Dense<8>, Relu,
            Residual { Dense<8, bias = false>, Tanh, Dense<8> },
            Softplus(beta = 2.0), Dense<1>,
        }

        /// Never uses the matrixmultiply regime, even for a batch that
        /// would: 8 rows x 64 x 64.
        #[static_kernels]
        pub struct Wide(64 -> 8) {
            Dense<64>, Elu(1.0), Dense<8>, Sigmoid,
        }

        /// `Wide` with the regime chosen by size.
        pub struct WideGemm(64 -> 8) {
            Dense<64>, Elu(1.0), Dense<8>, Sigmoid,
        }
    }
}

use nets::{Regressor, RegressorTape, Wide, WideArch, WideGemm, WideGemmArch};
use staticnet::Architecture;

#[test]
fn the_input_gradient_matches_central_differences() {
    let net: Regressor<f64> = Regressor::seeded(3);
    let x = [0.3, -0.7, 1.1, 0.05];
    let mut tape: RegressorTape<f64> = RegressorTape::new();
    let mut grads: Regressor<f64> = Regressor::zeroed();
    let mut grad_input = [[0.0; 4]];
    let y = net.forward(&[x], &mut tape)[0];
    assert_eq!(y, net.predict(&x));
    net.backward_with_input_grad(&mut tape, &[[1.0]], &mut grads, &mut grad_input)
        .unwrap();
    let h = 1e-6;
    for i in 0..4 {
        let (mut up, mut down) = (x, x);
        up[i] += h;
        down[i] -= h;
        let numeric = (net.predict(&up)[0] - net.predict(&down)[0]) / (2.0 * h);
        // Central differences are exact to O(h²) here, far below 1e-6.
        assert!(
            (numeric - grad_input[0][i]).abs() < 1e-6,
            "d y / d x[{i}]: backward {}, numeric {numeric}",
            grad_input[0][i]
        );
    }
    assert!(grads.params().iter().any(|g| *g != 0.0));
}

#[test]
fn static_kernels_compute_what_the_size_chosen_regime_computes() {
    // The attribute reaches the architecture (checked while compiling).
    const { assert!(WideArch::STATIC_KERNELS && !WideGemmArch::STATIC_KERNELS) };
    let fixed: Wide<f64> = Wide::seeded(9);
    let mut chosen: WideGemm<f64> = WideGemm::zeroed();
    chosen.params_mut().copy_from_slice(fixed.params());

    let mut x = [[0.0f64; 64]; 8];
    for (r, row) in x.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = ((r * 64 + c) as f64 * 0.37).sin();
        }
    }
    let (mut a, mut b) = ([[0.0; 8]; 8], [[0.0; 8]; 8]);
    fixed.infer(&x, &mut a);
    chosen.infer(&x, &mut b);
    for (ra, rb) in a.iter().zip(&b) {
        for (va, vb) in ra.iter().zip(rb) {
            // The regimes sum 64 products in different orders; in f64 that
            // changes only the last few bits.
            assert!((va - vb).abs() < 1e-12, "{va} vs {vb}");
            assert!(*va > 0.0 && *va < 1.0, "a sigmoid output: {va}");
        }
    }
}
