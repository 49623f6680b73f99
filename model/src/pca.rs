//! The linear baseline: principal component analysis of flattened windows, a window scored
//! by how badly its projection onto the top components rebuilds it. Honest evaluations
//! (Sarfraz et al., ICML 2024; TSB-AD, NeurIPS 2024) find it as strong as most deep models,
//! so every evaluation reports it beside them. It is fitted in closed form (no epochs) and
//! then scores exactly like a network, through the same decision.

use burn::module::Param;
use burn::prelude::*;

use crate::batch::Batch;
use crate::networks::WindowModel;

/// Orthogonal-iteration rounds: enough for the top components of a window covariance,
/// whose leading eigenvalues are well apart.
const ROUNDS: usize = 300;

/// The window's mean and the top principal directions as columns (`[dims, components]`;
/// directions beyond those kept are zero, so the shape depends only on the config).
#[derive(Module, Debug)]
pub struct Pca {
    mean: Param<Tensor<1>>,
    basis: Param<Tensor<2>>,
    /// The share of the windows' variance the kept directions explain (from the config;
    /// not saved with the weights).
    variance: f64,
}

impl Pca {
    /// An empty (all-zero) model for windows of `dims` values, to fit or load into, that
    /// will keep at most `components` directions explaining `variance`.
    pub fn new(dims: usize, components: usize, variance: f64, device: &Device) -> Pca {
        Pca {
            mean: Param::from_tensor(Tensor::zeros([dims], device)),
            basis: Param::from_tensor(Tensor::zeros([dims, components.max(1)], device)),
            variance,
        }
    }

    /// Fits the mean and the fewest directions (at most the model's `components`) that
    /// explain the model's `variance` of the windows' total variance.
    pub fn fit<'a>(&self, windows: impl Iterator<Item = &'a [f32]>, device: &Device) -> (Pca, Fit) {
        let variance = self.variance;
        let [dims, components] = self.basis.val().dims();
        let (mean, cov, n) = covariance(windows, dims);
        let (vectors, values) = top_eigen(&cov, dims, components);
        let total: f64 = (0..dims).map(|i| cov[i * dims + i]).sum();
        let mut kept = 0;
        let mut explained = 0.0;
        while kept < values.len() && (explained < variance * total || kept == 0) {
            explained += values[kept].max(0.0);
            kept += 1;
        }
        let mut basis = vec![0f32; dims * components];
        for (j, v) in vectors.iter().take(kept).enumerate() {
            for i in 0..dims {
                basis[i * components + j] = v[i] as f32;
            }
        }
        let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        let pca = Pca {
            mean: Param::from_tensor(Tensor::from_data(TensorData::new(mean, [dims]), device)),
            basis: Param::from_tensor(Tensor::from_data(
                TensorData::new(basis, [dims, components]),
                device,
            )),
            variance,
        };
        let fit = Fit {
            windows: n,
            components: kept,
            explained: if total > 0.0 { explained / total } else { 1.0 },
        };
        (pca, fit)
    }
}

/// What a fit found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub windows: usize,
    pub components: usize,
    /// Share of the total variance the kept components explain.
    pub explained: f64,
}

impl WindowModel for Pca {
    fn errors(&self, batch: &Batch) -> Tensor<3> {
        let x = batch.flat_window();
        let mean = self.mean.val().unsqueeze::<2>();
        let centred = x.clone() - mean.clone();
        let basis = self.basis.val();
        let rebuilt = centred.matmul(basis.clone()).matmul(basis.transpose()) + mean;
        let target = batch.window();
        (rebuilt.reshape(target.dims()) - target).square()
    }
}

/// The mean and covariance (row-major `dims × dims`) of the windows, and their count.
fn covariance<'a>(
    windows: impl Iterator<Item = &'a [f32]>,
    dims: usize,
) -> (Vec<f64>, Vec<f64>, usize) {
    let mut sum = vec![0f64; dims];
    let mut outer = vec![0f64; dims * dims];
    let mut n = 0usize;
    let mut x = vec![0f64; dims];
    for w in windows {
        for (xi, &v) in x.iter_mut().zip(w.iter().take(dims)) {
            *xi = f64::from(v);
        }
        for i in 0..dims {
            sum[i] += x[i];
            let row = &mut outer[i * dims..i * dims + dims];
            let xi = x[i];
            for (o, &xj) in row[i..].iter_mut().zip(&x[i..]) {
                *o += xi * xj;
            }
        }
        n += 1;
    }
    let nf = n.max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / nf).collect();
    let mut cov = vec![0f64; dims * dims];
    for i in 0..dims {
        for j in i..dims {
            let c = outer[i * dims + j] / nf - mean[i] * mean[j];
            cov[i * dims + j] = c;
            cov[j * dims + i] = c;
        }
    }
    (mean, cov, n)
}

/// The top `k` eigenvectors of symmetric `a` (`dims × dims`) and their eigenvalues,
/// largest first, by orthogonal iteration from a fixed start (deterministic).
fn top_eigen(a: &[f64], dims: usize, k: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
    let k = k.min(dims);
    let mut q: Vec<Vec<f64>> = (0..k)
        .map(|j| {
            (0..dims)
                .map(|i| {
                    if i == j {
                        1.0
                    } else {
                        1e-3 * (((i * 31 + j * 17) % 13) as f64 - 6.0)
                    }
                })
                .collect()
        })
        .collect();
    orthonormalise(&mut q);
    let times = |v: &[f64]| -> Vec<f64> {
        (0..dims)
            .map(|i| {
                a[i * dims..(i + 1) * dims]
                    .iter()
                    .zip(v)
                    .map(|(x, y)| x * y)
                    .sum()
            })
            .collect()
    };
    for _ in 0..ROUNDS {
        let mut next: Vec<Vec<f64>> = q.iter().map(|v| times(v)).collect();
        orthonormalise(&mut next);
        q = next;
    }
    let mut pairs: Vec<(f64, Vec<f64>)> = q
        .into_iter()
        .map(|v| {
            let av = times(&v);
            (v.iter().zip(&av).map(|(x, y)| x * y).sum(), v)
        })
        .collect();
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let values = pairs.iter().map(|p| p.0).collect();
    (pairs.into_iter().map(|p| p.1).collect(), values)
}

/// Modified Gram-Schmidt; a vector that vanishes (rank deficiency) becomes zero.
fn orthonormalise(q: &mut [Vec<f64>]) {
    for j in 0..q.len() {
        for i in 0..j {
            let (done, rest) = q.split_at_mut(j);
            let d: f64 = done[i].iter().zip(&rest[0]).map(|(x, y)| x * y).sum();
            for (r, x) in rest[0].iter_mut().zip(&done[i]) {
                *r -= d * x;
            }
        }
        let norm = q[j].iter().map(|x| x * x).sum::<f64>().sqrt();
        for x in &mut q[j] {
            *x = if norm > 1e-12 { *x / norm } else { 0.0 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::window::WindowSpec;

    /// Windows of 8 steps × 2 columns on a plane: column 0 a sine of random phase, column 1
    /// twice column 0.
    fn plane(n: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|k| {
                let phase = (k * 7919 % 1000) as f32 / 1000.0 * std::f32::consts::TAU;
                (0..8)
                    .flat_map(|t| {
                        let x = (phase + t as f32 * 0.4).sin();
                        [x, 2.0 * x]
                    })
                    .collect()
            })
            .collect()
    }

    fn errors(pca: &Pca, window: &[f32], device: &Device) -> f32 {
        let spec = WindowSpec {
            length: 8,
            stride: 1,
            horizon: 0,
        };
        let batch = Batch::from_values(window.to_vec(), &spec, 2, device);
        pca.errors(&batch).sum().into_scalar::<f32>()
    }

    #[test]
    fn windows_like_the_training_ones_rebuild_and_others_do_not() {
        let device = Device::flex();
        let train = plane(2000);
        let empty = Pca::new(16, 8, 0.99, &device);
        let (pca, fit) = empty.fit(train.iter().map(Vec::as_slice), &device);
        // A sine of any phase is a mix of two directions (sin and cos of the steps).
        assert_eq!(fit.components, 2, "{fit:?}");
        assert!(fit.explained > 0.99 && fit.windows == 2000, "{fit:?}");
        let normal = plane(3).pop().unwrap();
        assert!(errors(&pca, &normal, &device) < 1e-6);
        // The same shape with column 1 no longer twice column 0: off the plane.
        let mut broken = normal.clone();
        for t in 0..8 {
            broken[2 * t + 1] = -broken[2 * t];
        }
        assert!(errors(&pca, &broken, &device) > 1.0);
    }

    #[test]
    fn the_top_directions_of_a_known_covariance_are_found() {
        // Variance 9 along (1, 1, 0)/√2, 1 along (1, -1, 0)/√2, 0.01 along z.
        let a = [5.0, 4.0, 0.0, 4.0, 5.0, 0.0, 0.0, 0.0, 0.01];
        let (v, e) = top_eigen(&a, 3, 2);
        assert!(
            (e[0] - 9.0).abs() < 1e-9 && (e[1] - 1.0).abs() < 1e-9,
            "{e:?}"
        );
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!((v[0][0].abs() - s).abs() < 1e-6 && (v[0][0] - v[0][1]).abs() < 1e-6);
        assert!(v[0][2].abs() < 1e-6 && v[1][2].abs() < 1e-6);
    }
}
