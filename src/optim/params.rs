//! What every optimizer keeps about the model it updates: its parameters by name, which of them are
//! frozen, how many updates each has had, and the per-parameter buffers of its update rule.

use crate::error::{Error, ErrorKind};
use crate::{Element, Module};

/// The model's parameters as an optimizer sees them, in field order (the order of
/// [`Module::zip_mut`]).
#[derive(Clone, Debug)]
pub(crate) struct Params {
    /// Names, as in [`Module::params`].
    pub(crate) names: Vec<String>,
    pub(crate) dims: Vec<Vec<usize>>,
    /// Frozen by [`freeze`](super::Optimizer::freeze), or in the model.
    pub(crate) frozen: Vec<bool>,
    /// Frozen in the model (a field marked `#[module(frozen)]`, [`Module::frozen_params`]): never
    /// updated, whatever `unfreeze` or a checkpoint says.
    pub(crate) in_model: Vec<bool>,
    /// The updates each parameter has had (PyTorch's per-parameter `step`): a frozen parameter's
    /// count stands still.
    pub(crate) steps: Vec<usize>,
    /// The calls of `step`.
    pub(crate) count: usize,
}

impl Params {
    pub(crate) fn of<M: Module>(model: &M) -> Self {
        let (names, dims): (Vec<String>, Vec<Vec<usize>>) =
            model.params().into_iter().map(|p| (p.name, p.dims)).unzip();
        let n = names.len();
        let fixed = model.frozen_params();
        let in_model: Vec<bool> = names.iter().map(|n| fixed.contains(n)).collect();
        Self {
            names,
            dims,
            frozen: in_model.clone(),
            in_model,
            steps: vec![0; n],
            count: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// One step: calls `f(i, step, dims, param, grad)` for every parameter `i` that is not frozen,
    /// with its update count `step` already incremented (1 at its first update) and its shape.
    ///
    /// Every parameter's count and size are checked before anything changes: a step that panics
    /// leaves the model, the update counts and the optimizer's buffers as they were.
    ///
    /// # Panics
    /// If the model or the gradients do not have the parameters (count and sizes) that the
    /// optimizer was made for: a model with another optional part present, or other run-time sizes.
    pub(crate) fn update<M: Module>(
        &mut self,
        model: &mut M,
        grads: &M::Grads,
        mut f: impl FnMut(usize, usize, &[usize], &mut [M::Elem], &[M::Elem]),
    ) {
        // First walk: the checks alone. It writes nothing (`zip_mut` hands out the parameters
        // mutably, so a buffer shared with another tensor is copied here rather than in the second
        // walk: values unchanged, the same allocations).
        let n = self.len();
        let mut i = 0;
        model.zip_mut(grads, &mut |p, g| {
            assert!(
                i < n,
                "the model and its gradients have more parameter tensors than the {n} the \
                 optimizer was made for"
            );
            let (name, numel) = (&self.names[i], self.dims[i].iter().product::<usize>());
            assert!(
                p.len() == numel && g.len() == numel,
                "parameter `{name}` has {} elements and its gradient {}; the optimizer was made \
                 for {numel}",
                p.len(),
                g.len()
            );
            i += 1;
        });
        assert!(
            i == n,
            "the model and its gradients have {i} parameter tensors in common, the optimizer was \
             made for {n} (an optional part present in one and not the other?)"
        );
        // Second walk: the same `n` tensors with the sizes just checked.
        self.count += 1;
        let mut i = 0;
        model.zip_mut(grads, &mut |p, g| {
            if !self.frozen[i] {
                self.steps[i] += 1;
                f(i, self.steps[i], &self.dims[i], p, g);
            }
            i += 1;
        });
    }

    /// Freezes (or unfreezes) the parameter called `name` and every parameter under it
    /// (`l1` is `l1.weight` and `l1.bias`). Parameters frozen in the model stay frozen; unfreezing
    /// a name under which all are is an error.
    pub(crate) fn set_frozen(&mut self, name: &str, frozen: bool) -> Result<(), Error> {
        let (mut found, mut changed) = (false, false);
        for ((n, f), &fixed) in self.names.iter().zip(&mut self.frozen).zip(&self.in_model) {
            if under(n, name) {
                found = true;
                if !fixed {
                    *f = frozen;
                    changed = true;
                }
            }
        }
        if found && !changed && !frozen {
            Err(Error::new(
                ErrorKind::Missing,
                format!(
                    "cannot unfreeze `{name}`: it is frozen in the model (a field marked \
                     `#[module(frozen)]`), and no optimizer updates it"
                ),
            ))
        } else if found {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Missing,
                format!(
                    "the model has no parameter `{name}` nor any under it; its parameters are {}",
                    self.list()
                ),
            ))
        }
    }

    /// The names of the frozen parameters, in field order.
    pub(crate) fn frozen_names(&self) -> Vec<String> {
        self.names
            .iter()
            .zip(&self.frozen)
            .filter(|&(_, &f)| f)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The parameter names as `` `a`, `b` ``.
    fn list(&self) -> String {
        let names: Vec<String> = self.names.iter().map(|n| format!("`{n}`")).collect();
        names.join(", ")
    }
}

/// Whether the parameter `name` is `prefix` or lies under it.
fn under(name: &str, prefix: &str) -> bool {
    name == prefix
        || (name.len() > prefix.len()
            && name.starts_with(prefix)
            && name.as_bytes()[prefix.len()] == b'.')
}

/// One kind of per-parameter state of an update rule (Adam's `exp_avg`): a buffer for each
/// parameter, `None` until the parameter's first update creates it (as PyTorch creates an
/// optimizer's state at a parameter's first step).
#[derive(Clone, Debug)]
pub(crate) struct Slot<E> {
    /// The name in a checkpoint, as in PyTorch's optimizer `state_dict`.
    pub(crate) name: &'static str,
    pub(crate) bufs: Vec<Option<Vec<E>>>,
}

impl<E: Element> Slot<E> {
    pub(crate) fn new(name: &'static str, params: &Params) -> Self {
        Self {
            name,
            bufs: vec![None; params.len()],
        }
    }

    /// Parameter `i`'s buffer of `len` elements, created filled with `init` if it has none yet.
    pub(crate) fn get(&mut self, i: usize, len: usize, init: E) -> &mut [E] {
        self.bufs[i].get_or_insert_with(|| vec![init; len])
    }
}

/// PyTorch's `lerp(start, end, weight)` (`start + weight (end - start)`), computed as its CPU
/// kernel does: from `end` when the weight is 0.5 or more.
pub(crate) fn lerp<E: Element>(start: E, end: E, weight: E) -> E {
    if weight.abs() < E::from_f64_lossy(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (E::one() - weight)
    }
}

/// Panics with `invalid {what}: {value}` unless `ok`.
pub(crate) fn check<E: Element>(what: &str, value: E, ok: bool) {
    assert!(ok, "invalid {what}: {value}");
}

/// A learning rate: finite and not negative.
pub(crate) fn valid_lr<E: Element>(lr: E) -> bool {
    lr >= E::zero() && lr.is_finite()
}

/// A weight decay, momentum, eps...: not negative (nor NaN).
pub(crate) fn non_negative<E: Element>(v: E) -> bool {
    v >= E::zero()
}

/// Any finite number.
pub(crate) fn finite<E: Element>(v: E) -> bool {
    v.is_finite()
}

/// A decay rate: in `[0, 1)`.
pub(crate) fn unit<E: Element>(v: E) -> bool {
    v >= E::zero() && v < E::one()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_covers_itself_and_what_lies_under_it() {
        assert!(under("l1.weight", "l1"));
        assert!(under("l1.weight", "l1.weight"));
        assert!(!under("l10.weight", "l1"));
        assert!(!under("l1", "l1.weight"));
    }

    #[test]
    fn lerp_takes_the_branch_of_pytorchs_kernel() {
        // weight < 0.5: start + w (end - start); otherwise end - (end - start)(1 - w).
        assert_eq!(lerp(1.0, 3.0, 0.25), 1.5);
        assert_eq!(lerp(1.0, 3.0, 0.75), 2.5);
        assert_eq!(lerp(0.1_f64, 0.7, 0.9), 0.7 - (0.7 - 0.1) * (1.0 - 0.9));
    }
}
