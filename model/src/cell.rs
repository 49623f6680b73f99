//! The LSTM cell as one differentiable operation with a hand-written backward.
//!
//! burn's autodiff records every element-wise operation of a cell (about fifteen per step)
//! and recomputes each sigmoid and tanh in the backward pass. This operation takes the
//! gate pre-activations and the previous cell state, computes the new hidden and cell
//! state in one pass over plain memory, and keeps the activated gates for the backward
//! pass, which is then one more pass with no transcendental function at all.
//!
//! It is a burn backend extension: implemented for the flex and ndarray backends and, with
//! its backward, for autodiff over either.

// burn 0.22 deprecates its ndarray backend; Vigil still offers it (and benchmarks it against
// flex), so the extension must name it.
#![allow(deprecated)]

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{
    Backend, Dispatch, Flex, NdArray, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::tensor::{Tensor, TensorData};

#[backend_extension(Flex, NdArray, Autodiff)]
pub trait LstmCellOps: Backend {
    /// `z`: gate pre-activations `[batch, 4·hidden]` (input, forget, cell, output; the cell
    /// block doubled, see `nn::Lstm`), `c`: previous cell state `[batch, hidden]`.
    /// Returns `[batch, 2·hidden]`: the new hidden state, then the new cell state.
    fn lstm_cell(z: FloatTensor<Self>, c: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// `z` and `c` as above; returns `[h | c]` (see [`LstmCellOps::lstm_cell`]).
pub fn lstm_cell(z: Tensor<2>, c: Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as LstmCellOps>::lstm_cell(
        z.into_dispatch(),
        c.into_dispatch(),
    ))
}

fn read<B: Backend>(t: FloatTensor<B>) -> Vec<f32> {
    burn::backend::try_read_sync(B::float_into_data(t))
        .and_then(Result::ok)
        .and_then(|d| d.try_into_vec::<f32>().ok())
        .unwrap_or_default()
}

fn write<B: Backend>(
    values: Vec<f32>,
    rows: usize,
    cols: usize,
    device: &B::Device,
) -> FloatTensor<B> {
    B::float_from_data(TensorData::new(values, [rows, cols]), device)
}

#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.max(-80.0)).exp())
}

/// What the backward pass needs: activated gates `[batch, 4H]` (the cell gate as its tanh),
/// the previous cell state and tanh of the new one, `[batch, H]` each.
#[derive(Debug, Clone)]
struct Saved {
    gates: Vec<f32>,
    c_prev: Vec<f32>,
    tanh_c: Vec<f32>,
    batch: usize,
    hidden: usize,
}

/// The forward pass on plain memory: returns `[h | c]` and what backward needs.
fn forward(z: &[f32], c_prev: Vec<f32>, batch: usize, hidden: usize) -> (Vec<f32>, Saved) {
    let h4 = 4 * hidden;
    let mut gates = vec![0f32; batch * h4];
    let mut out = vec![0f32; batch * 2 * hidden];
    let mut tanh_c = vec![0f32; batch * hidden];
    for b in 0..batch {
        let zr = &z[b * h4..(b + 1) * h4];
        let gr = &mut gates[b * h4..(b + 1) * h4];
        for (g, &v) in gr.iter_mut().zip(zr) {
            *g = sigmoid(v);
        }
        for g in &mut gr[2 * hidden..3 * hidden] {
            *g = 2.0 * *g - 1.0; // tanh(z/2): the stored pre-activation is doubled
        }
        for k in 0..hidden {
            let (i, f, g, o) = (
                gr[k],
                gr[hidden + k],
                gr[2 * hidden + k],
                gr[3 * hidden + k],
            );
            let c = f * c_prev[b * hidden + k] + i * g;
            let tc = 2.0 * sigmoid(2.0 * c) - 1.0;
            tanh_c[b * hidden + k] = tc;
            out[b * 2 * hidden + k] = o * tc;
            out[b * 2 * hidden + hidden + k] = c;
        }
    }
    (
        out,
        Saved {
            gates,
            c_prev,
            tanh_c,
            batch,
            hidden,
        },
    )
}

/// The backward pass: from the gradient of `[h | c]`, the gradients of `z` and `c_prev`.
fn backward(s: &Saved, grad: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (batch, hidden) = (s.batch, s.hidden);
    let h4 = 4 * hidden;
    let mut dz = vec![0f32; batch * h4];
    let mut dc_prev = vec![0f32; batch * hidden];
    for b in 0..batch {
        let gr = &s.gates[b * h4..(b + 1) * h4];
        let dzr = &mut dz[b * h4..(b + 1) * h4];
        for k in 0..hidden {
            let (i, f, g, o) = (
                gr[k],
                gr[hidden + k],
                gr[2 * hidden + k],
                gr[3 * hidden + k],
            );
            let j = b * hidden + k;
            let tc = s.tanh_c[j];
            let dh = grad[b * 2 * hidden + k];
            let dc = grad[b * 2 * hidden + hidden + k] + dh * o * (1.0 - tc * tc);
            dzr[k] = dc * g * i * (1.0 - i);
            dzr[hidden + k] = dc * s.c_prev[j] * f * (1.0 - f);
            dzr[2 * hidden + k] = dc * i * 0.5 * (1.0 - g * g);
            dzr[3 * hidden + k] = dh * tc * o * (1.0 - o);
            dc_prev[j] = dc * f;
        }
    }
    (dz, dc_prev)
}

fn plain<B: Backend>(z: FloatTensor<B>, c: FloatTensor<B>) -> (FloatTensor<B>, Saved) {
    let [batch, h4] = z.shape().dims::<2>();
    let device = z.device();
    let hidden = h4 / 4;
    let zv = read::<B>(z);
    let (out, saved) = forward(&zv, read::<B>(c), batch, hidden);
    (write::<B>(out, batch, 2 * hidden, &device), saved)
}

impl LstmCellOps for Flex {
    fn lstm_cell(z: FloatTensor<Self>, c: FloatTensor<Self>) -> FloatTensor<Self> {
        plain::<Flex>(z, c).0
    }
}

impl LstmCellOps for NdArray {
    fn lstm_cell(z: FloatTensor<Self>, c: FloatTensor<Self>) -> FloatTensor<Self> {
        plain::<NdArray>(z, c).0
    }
}

impl<B: Backend + LstmCellOps, C: CheckpointStrategy> LstmCellOps for Autodiff<B, C> {
    fn lstm_cell(z: FloatTensor<Self>, c: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct CellBackward;

        impl<B: Backend> Backward<B, 2> for CellBackward {
            type State = (Saved, B::Device);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let [node_z, node_c] = ops.parents;
                let grad = read::<B>(grads.consume::<B>(&ops.node));
                let (saved, device) = ops.state;
                let (dz, dc) = backward(&saved, &grad);
                if let Some(node) = node_z {
                    grads.register::<B>(
                        node.id,
                        write::<B>(dz, saved.batch, 4 * saved.hidden, &device),
                    );
                }
                if let Some(node) = node_c {
                    grads
                        .register::<B>(node.id, write::<B>(dc, saved.batch, saved.hidden, &device));
                }
            }
        }

        match CellBackward
            .prepare::<C>([z.node(), c.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let zp = z.into_primitive();
                let device = zp.device();
                let (out, saved) = plain::<B>(zp, c.into_primitive());
                prep.finish((saved, device), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::lstm_cell(z.into_primitive(), c.into_primitive()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written backward matches finite differences of the forward.
    #[test]
    fn backward_matches_finite_differences() {
        let (batch, hidden) = (2, 3);
        let z: Vec<f32> = (0..batch * 4 * hidden)
            .map(|i| ((i as f32) * 0.71).sin() * 1.5)
            .collect();
        let c: Vec<f32> = (0..batch * hidden)
            .map(|i| ((i as f32) * 1.3).cos())
            .collect();
        // Loss: a fixed weighted sum of the outputs.
        let weights: Vec<f32> = (0..batch * 2 * hidden)
            .map(|i| 0.3 + (i as f32 * 0.37).sin())
            .collect();
        let loss = |z: &[f32], c: &[f32]| -> f64 {
            let (out, _) = forward(z, c.to_vec(), batch, hidden);
            out.iter()
                .zip(&weights)
                .map(|(o, w)| f64::from(o * w))
                .sum()
        };
        let (_, saved) = forward(&z, c.clone(), batch, hidden);
        let (dz, dc) = backward(&saved, &weights);
        let eps = 1e-3f32;
        for i in 0..z.len() {
            let (mut up, mut down) = (z.clone(), z.clone());
            up[i] += eps;
            down[i] -= eps;
            let numeric = (loss(&up, &c) - loss(&down, &c)) / (2.0 * f64::from(eps));
            assert!(
                (numeric - f64::from(dz[i])).abs() < 2e-3,
                "dz[{i}]: {numeric} vs {}",
                dz[i]
            );
        }
        for i in 0..c.len() {
            let (mut up, mut down) = (c.clone(), c.clone());
            up[i] += eps;
            down[i] -= eps;
            let numeric = (loss(&z, &up) - loss(&z, &down)) / (2.0 * f64::from(eps));
            assert!(
                (numeric - f64::from(dc[i])).abs() < 2e-3,
                "dc[{i}]: {numeric} vs {}",
                dc[i]
            );
        }
    }
}
