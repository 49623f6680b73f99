//! The layers Vigil's models are built from: a dense layer and a fast LSTM.
//!
//! Parameters are drawn from a seeded ChaCha stream rather than burn's lazy initialisers,
//! so a model's initial weights depend on the seed alone, whatever the backend.
//!
//! The LSTM is written for burn's CPU backends, which pay per operation: each step does one
//! matrix product of `[x_t, h]` with the fused gate weights, then one fused cell operation
//! ([`crate::cell`]) whose backward reuses the forward's gate values. The cell gate uses
//! tanh(z) = 2σ(2z) − 1 with the factor 2 folded into the weights, so the cell evaluates one
//! kind of transcendental function. Step inputs come from untracked data or from the
//! previous layer's list of step outputs, never from slicing a tracked sequence (whose
//! backward costs O(T²)).

use burn::module::Param;
use burn::prelude::*;
use rand::RngExt;

use crate::cell::lstm_cell;
use crate::rng::Rng;

/// A parameter tensor with entries uniform in `[-bound, bound]`.
fn uniform<const D: usize>(
    rng: &mut Rng,
    shape: [usize; D],
    bound: f32,
    device: &Device,
) -> Param<Tensor<D>> {
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.random_range(-bound..=bound)).collect();
    Param::from_data(TensorData::new(values, shape), device)
}

/// `y = x W + b`.
#[derive(Module, Debug)]
pub struct Dense {
    weight: Param<Tensor<2>>,
    bias: Param<Tensor<1>>,
}

impl Dense {
    /// PyTorch's default initialisation: uniform in ±1/√fan_in.
    pub fn new(rng: &mut Rng, inputs: usize, outputs: usize, device: &Device) -> Dense {
        let bound = 1.0 / (inputs as f32).sqrt();
        Dense {
            weight: uniform(rng, [inputs, outputs], bound, device),
            bias: uniform(rng, [outputs], bound, device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.weight.val()) + self.bias.val().unsqueeze::<2>()
    }
}

/// One LSTM layer with fused gates (see the module docs).
#[derive(Module, Debug)]
pub struct Lstm {
    /// `[inputs + hidden, 4 · hidden]`, gate blocks in the order input, forget, cell, output.
    weight: Param<Tensor<2>>,
    bias: Param<Tensor<1>>,
    hidden: usize,
}

impl Lstm {
    pub fn new(rng: &mut Rng, inputs: usize, hidden: usize, device: &Device) -> Lstm {
        let bound = 1.0 / (hidden as f32).sqrt();
        let rows = inputs + hidden;
        let mut w: Vec<f32> = (0..rows * 4 * hidden)
            .map(|_| rng.random_range(-bound..=bound))
            .collect();
        let mut b: Vec<f32> = (0..4 * hidden)
            .map(|_| rng.random_range(-bound..=bound))
            .collect();
        // The cell gate's tanh is evaluated as 2σ(2z) − 1: its pre-activation is doubled.
        for r in 0..rows {
            for j in 2 * hidden..3 * hidden {
                w[r * 4 * hidden + j] *= 2.0;
            }
        }
        for v in &mut b[2 * hidden..3 * hidden] {
            *v *= 2.0;
        }
        // A forget-gate bias of +1 keeps early gradients flowing (Jozefowicz et al., 2015).
        for v in &mut b[hidden..2 * hidden] {
            *v += 1.0;
        }
        Lstm {
            weight: Param::from_data(TensorData::new(w, [rows, 4 * hidden]), device),
            bias: Param::from_data(TensorData::new(b, [4 * hidden]), device),
            hidden,
        }
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Runs the layer over `steps` (each `[batch, inputs]`) from a zero state and returns
    /// every step's hidden state.
    pub fn forward(&self, steps: &[Tensor<2>]) -> Vec<Tensor<2>> {
        self.forward_from(steps, None)
    }

    /// Like [`Lstm::forward`], from hidden state `h0` (`[batch, hidden]`) when given.
    pub fn forward_from(&self, steps: &[Tensor<2>], h0: Option<Tensor<2>>) -> Vec<Tensor<2>> {
        let Some(first) = steps.first() else {
            return Vec::new();
        };
        let [batch, _] = first.dims();
        let device = first.device();
        let hd = self.hidden;
        let weight = self.weight.val();
        let bias = self.bias.val().unsqueeze::<2>();
        let mut h = h0.unwrap_or_else(|| Tensor::<2>::zeros([batch, hd], &device));
        let mut c: Option<Tensor<2>> = None;
        let mut out = Vec::with_capacity(steps.len());
        for x in steps {
            let z = Tensor::cat(vec![x.clone(), h], 1).matmul(weight.clone()) + bias.clone();
            // The cell state lives on z's device (autodiff while training).
            let c_prev = c
                .take()
                .unwrap_or_else(|| Tensor::<2>::zeros([batch, hd], &z.device()));
            let hc = lstm_cell(z, c_prev);
            h = hc.clone().slice([0..batch, 0..hd]);
            c = Some(hc.slice([0..batch, hd..2 * hd]));
            out.push(h.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;

    /// A plain per-element LSTM (PyTorch's equations), to check the fused layer against.
    fn reference(w: &[f32], b: &[f32], inputs: usize, hidden: usize, xs: &[Vec<f32>]) -> Vec<f32> {
        let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
        let mut h = vec![0f32; hidden];
        let mut c = vec![0f32; hidden];
        for x in xs {
            let input: Vec<f32> = x.iter().chain(&h).copied().collect();
            let mut z = b.to_vec();
            for (r, v) in input.iter().enumerate() {
                for j in 0..4 * hidden {
                    z[j] += v * w[r * 4 * hidden + j];
                }
            }
            for k in 0..hidden {
                let i = sig(z[k]);
                let f = sig(z[hidden + k]);
                let g = (z[2 * hidden + k] / 2.0).tanh(); // the stored weights are doubled
                let o = sig(z[3 * hidden + k]);
                c[k] = f * c[k] + i * g;
                h[k] = o * c[k].tanh();
            }
        }
        let _ = inputs;
        h
    }

    #[test]
    fn fused_lstm_matches_the_textbook_equations() {
        let device = Device::flex();
        let (inputs, hidden) = (3, 5);
        let lstm = Lstm::new(&mut seeded(7, 1), inputs, hidden, &device);
        let w = lstm.weight.val().into_data().try_into_vec::<f32>().unwrap();
        let b = lstm.bias.val().into_data().try_into_vec::<f32>().unwrap();
        let xs: Vec<Vec<f32>> = (0..6)
            .map(|t| {
                (0..inputs)
                    .map(|k| ((t * 3 + k) as f32 * 0.37).sin())
                    .collect()
            })
            .collect();
        let steps: Vec<Tensor<2>> = xs
            .iter()
            .map(|x| Tensor::from_data(TensorData::new(x.clone(), [1, inputs]), &device))
            .collect();
        let out = lstm.forward(&steps);
        let got = out
            .last()
            .unwrap()
            .clone()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let want = reference(&w, &b, inputs, hidden, &xs);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
    }
}
