//! An optimizer's state in the safetensors format: written by [`Optimizer::to_safetensors`] and
//! read by [`Optimizer::load_safetensors`] (the layout is in the [module docs](super)).
//!
//! [`Optimizer::to_safetensors`]: super::Optimizer::to_safetensors
//! [`Optimizer::load_safetensors`]: super::Optimizer::load_safetensors

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};

use super::params::{Params, Slot};
use crate::Element;
use crate::error::{Error, ErrorKind, dims_str};
use crate::io::{Out, dtype_name, format_error};

/// An optimizer's state and settings, as the checkpoint functions see them.
pub(crate) trait Stateful<E: Element>: Clone {
    /// The optimizer's name in a checkpoint (`"Adam"`).
    const NAME: &'static str;
    /// The parameters' bookkeeping and the update rule's buffers.
    fn parts(&self) -> (&Params, &[Slot<E>]);
    fn parts_mut(&mut self) -> (&mut Params, &mut [Slot<E>]);
    /// The settings, the learning rate first, as `(key, value)`.
    fn settings(&self) -> Vec<(&'static str, String)>;
    /// Reads every setting of [`settings`](Stateful::settings) back.
    fn load_settings(&mut self, s: &mut Settings<'_>);
}

/// The problems found while reading a checkpoint, all reported at once.
#[derive(Default)]
struct Problems(Vec<(ErrorKind, String)>);

impl Problems {
    fn add(&mut self, kind: ErrorKind, message: String) {
        self.0.push((kind, message));
    }
}

/// The settings stored in a checkpoint's metadata, read one by one.
pub(crate) struct Settings<'a> {
    meta: &'a HashMap<String, String>,
    problems: Problems,
}

impl Settings<'_> {
    fn get(&mut self, key: &str) -> Option<&str> {
        let value = self.meta.get(key).map(String::as_str);
        if value.is_none() {
            self.problems.add(
                ErrorKind::Missing,
                format!("setting `{key}` is missing from the file"),
            );
        }
        value
    }

    /// The number `key`, which `valid` must accept (zero when it is missing or invalid, with the
    /// problem recorded).
    pub(crate) fn float<E: Element>(&mut self, key: &str, valid: fn(E) -> bool) -> E {
        let Some(text) = self.get(key) else {
            return E::zero();
        };
        match E::from_str_radix(text, 10) {
            Ok(v) if valid(v) => v,
            Ok(_) => {
                let message = format!("setting `{key}` is {text} in the file, which is invalid");
                self.problems.add(ErrorKind::OutOfRange, message);
                E::zero()
            }
            Err(_) => {
                let message = format!("setting `{key}` is `{text}` in the file, not a number");
                self.problems.add(ErrorKind::Parse, message);
                E::zero()
            }
        }
    }

    /// The flag `key` (`true` or `false`).
    pub(crate) fn flag(&mut self, key: &str) -> bool {
        match self.get(key) {
            Some("true") => true,
            Some("false") | None => false,
            Some(text) => {
                let message = format!("setting `{key}` is `{text}` in the file, not true or false");
                self.problems.add(ErrorKind::Parse, message);
                false
            }
        }
    }
}

/// A state tensor's name: `exp_avg.l1.weight` (`exp_avg` for a model that is one tensor).
fn key(kind: &str, param: &str) -> String {
    if param.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{param}")
    }
}

pub(crate) fn save<E: Element, S: Stateful<E>>(state: &S) -> Vec<u8> {
    let (params, slots) = state.parts();
    let mut tensors: Vec<(String, Out)> = Vec::new();
    for (i, name) in params.names.iter().enumerate() {
        let step = i64::try_from(params.steps[i]).expect("a step count fits in an i64");
        tensors.push((
            key("step", name),
            Out {
                dtype: Dtype::I64,
                shape: Vec::new(),
                bytes: step.to_le_bytes().to_vec(),
            },
        ));
        for slot in slots {
            if let Some(buf) = &slot.bufs[i] {
                tensors.push((
                    key(slot.name, name),
                    Out {
                        dtype: E::DTYPE,
                        shape: params.dims[i].clone(),
                        bytes: {
                            let mut b = Vec::new();
                            E::extend_le_bytes(buf, &mut b);
                            b
                        },
                    },
                ));
            }
        }
    }
    let mut meta: HashMap<String, String> = HashMap::new();
    meta.insert("optimizer".into(), S::NAME.into());
    meta.insert("step_count".into(), params.count.to_string());
    meta.insert("frozen".into(), params.frozen_names().join(","));
    for (k, v) in state.settings() {
        meta.insert(k.into(), v);
    }
    let views = tensors.iter().map(|(name, out)| (name.as_str(), out));
    safetensors::serialize(views, Some(meta))
        .expect("state names are unique and every buffer matches its shape")
}

pub(crate) fn load<E: Element, S: Stateful<E>>(state: &mut S, bytes: &[u8]) -> Result<(), Error> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| format_error(bytes, &e))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format_error(bytes, &e))?;
    let meta = header.metadata().clone().unwrap_or_default();
    match meta.get("optimizer") {
        None => {
            return Err(Error::new(
                ErrorKind::Format,
                "the file holds no optimizer state (its metadata names no `optimizer`): the \
                 parameters of a model?",
            ));
        }
        Some(kind) if kind != S::NAME => {
            return Err(Error::new(
                ErrorKind::Format,
                format!("the file holds the state of {kind}, not of {}", S::NAME),
            ));
        }
        Some(_) => {}
    }

    // Everything is read into a copy, which replaces the state only if nothing went wrong.
    let mut new = state.clone();
    let mut settings = Settings {
        meta: &meta,
        problems: Problems::default(),
    };
    new.load_settings(&mut settings);
    let mut problems = settings.problems;
    let count = meta.get("step_count").map(|c| c.parse::<usize>());
    match count {
        Some(Ok(c)) => new.parts_mut().0.count = c,
        Some(Err(_)) => problems.add(
            ErrorKind::Parse,
            format!(
                "setting `step_count` is `{}` in the file, not a count",
                meta["step_count"]
            ),
        ),
        None => problems.add(
            ErrorKind::Missing,
            "setting `step_count` is missing from the file".into(),
        ),
    }
    let mut stored: HashMap<String, safetensors::tensor::TensorView<'_>> =
        file.tensors().into_iter().collect();
    let (params, slots) = new.parts_mut();
    let mut missing = Vec::new();
    for (i, name) in params.names.iter().enumerate() {
        let step_key = key("step", name);
        match stored.remove(&step_key) {
            None => missing.push(format!("`{step_key}`")),
            Some(view) => match read_step(&step_key, &view) {
                Ok(step) => params.steps[i] = step,
                Err((kind, message)) => problems.add(kind, message),
            },
        }
        for slot in slots.iter_mut() {
            let k = key(slot.name, name);
            slot.bufs[i] = stored.remove(&k).and_then(|view| {
                read_buffer::<E>(&k, &view, &params.dims[i])
                    .map_err(|(kind, message)| problems.add(kind, message))
                    .ok()
            });
        }
    }
    if !missing.is_empty() {
        problems.add(
            ErrorKind::Missing,
            format!("missing from the file: {}", missing.join(", ")),
        );
    }
    let mut extra: Vec<String> = stored.keys().map(|k| format!("`{k}`")).collect();
    if !extra.is_empty() {
        extra.sort();
        problems.add(
            ErrorKind::Unexpected,
            format!("in the file and not in the optimizer: {}", extra.join(", ")),
        );
    }
    let frozen: Vec<&str> = match meta.get("frozen").map(String::as_str) {
        Some("") => Vec::new(),
        Some(list) => list.split(',').collect(),
        None => {
            problems.add(
                ErrorKind::Missing,
                "setting `frozen` is missing from the file".into(),
            );
            Vec::new()
        }
    };
    params.frozen.clone_from(&params.in_model);
    for name in frozen {
        match params.names.iter().position(|n| n == name) {
            Some(i) => params.frozen[i] = true,
            None => problems.add(
                ErrorKind::Unexpected,
                format!("the file freezes a parameter `{name}` that the model does not have"),
            ),
        }
    }

    if let Some(&(kind, _)) = problems.0.first() {
        let messages: Vec<String> = problems.0.into_iter().map(|(_, m)| m).collect();
        return Err(Error::new(
            kind,
            format!("cannot load the {} state: {}", S::NAME, messages.join("; ")),
        ));
    }
    *state = new;
    Ok(())
}

fn read_step(
    name: &str,
    view: &safetensors::tensor::TensorView<'_>,
) -> Result<usize, (ErrorKind, String)> {
    if view.dtype() != Dtype::I64 || !view.shape().is_empty() {
        return Err((
            ErrorKind::Dtype,
            format!(
                "tensor `{name}` is {} of shape {} in the file, a step count is an i64 scalar",
                dtype_name(view.dtype()),
                dims_str(view.shape())
            ),
        ));
    }
    let bytes: [u8; 8] = view.data().try_into().map_err(|_| {
        (
            ErrorKind::Format,
            format!("tensor `{name}` holds {} bytes, not 8", view.data().len()),
        )
    })?;
    usize::try_from(i64::from_le_bytes(bytes)).map_err(|_| {
        (
            ErrorKind::OutOfRange,
            format!(
                "tensor `{name}` is {} in the file, a step count cannot be negative",
                i64::from_le_bytes(bytes)
            ),
        )
    })
}

fn read_buffer<E: Element>(
    name: &str,
    view: &safetensors::tensor::TensorView<'_>,
    dims: &[usize],
) -> Result<Vec<E>, (ErrorKind, String)> {
    if view.dtype() != E::DTYPE {
        return Err((
            ErrorKind::Dtype,
            format!(
                "tensor `{name}` is {} in the file, the optimizer needs {}",
                dtype_name(view.dtype()),
                E::NAME
            ),
        ));
    }
    if view.shape() != dims {
        return Err((
            ErrorKind::Shape,
            format!(
                "tensor `{name}` has shape {} in the file, the optimizer needs {}",
                dims_str(view.shape()),
                dims_str(dims)
            ),
        ));
    }
    let want = dims.iter().product::<usize>() * size_of::<E>();
    if view.data().len() != want {
        return Err((
            ErrorKind::Format,
            format!(
                "tensor `{name}` holds {} bytes, its shape needs {want}",
                view.data().len()
            ),
        ));
    }
    Ok(E::from_le_slice(view.data()))
}
