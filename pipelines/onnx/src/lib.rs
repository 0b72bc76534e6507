//! ONNX models served with ONNX Runtime through `ort` (feature `load-dynamic`: the shared library
//! is PyPI's `onnxruntime` wheel's, found through `ORT_DYLIB_PATH`, set at build time by
//! `.cargo/config.toml` and overridable at run time).
//!
//! An [`OnnxModel`] is either a model Elite exported (its metadata carries the contract) or a
//! user's model (XGBoost, CatBoost, PyTorch… exported elsewhere) with a declared [`Contract`]:
//! feature names in order, sequence length, output name and task. The contract is checked
//! against the graph's input and output on load, with an error that says what differs.
//!
//! [`text::TextClassifier`] serves a FinBERT-class text classifier (ONNX export + `tokenizer.json`)
//! as the `finbert` sentiment scorer.
//!
//! Execution runs on the CPU by default. `ELITE_ORT_PROVIDER=cuda` asks for ONNX Runtime's CUDA
//! execution provider (an error when the loaded library has none, e.g. the CPU wheel), `auto`
//! uses CUDA where present and the CPU otherwise (point `ORT_DYLIB_PATH` at the
//! `onnxruntime-gpu` wheel's library for a GPU). [`OnnxModel::provider`] says which one runs.

use elite_models::data::Dataset;
use elite_models::linear::check_features;
use elite_models::model::{Model, Task};
use elite_models::{Error, Result};
use ort::ep::ExecutionProvider;
use ort::session::Session;
use ort::value::{Tensor, TensorElementType, ValueType};
use serde::{Deserialize, Serialize};
use std::sync::{Mutex, OnceLock};

pub mod text;

fn backend(e: impl std::fmt::Display) -> Error {
    Error::Backend {
        backend: "onnxruntime",
        message: e.to_string(),
    }
}

static ENV: OnceLock<std::result::Result<ort::environment::Environment, String>> = OnceLock::new();

/// Where ONNX Runtime's shared library is: `ORT_DYLIB_PATH` at run time, else the path the
/// build recorded.
pub fn dylib_path() -> Option<String> {
    std::env::var("ORT_DYLIB_PATH")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| option_env!("ORT_DYLIB_PATH").map(String::from))
}

fn environment() -> Result<&'static ort::environment::Environment> {
    ENV.get_or_init(|| {
        let path = dylib_path().ok_or(
            "ORT_DYLIB_PATH is not set: run `tests/dev setup`, or point it at libonnxruntime.so",
        )?;
        if !std::path::Path::new(&path).exists() {
            return Err(format!(
                "ONNX Runtime library {path} not found: run `tests/dev setup` (installs PyPI onnxruntime)"
            ));
        }
        ort::init_from(&path)
            .map_err(|e| format!("loading {path}: {e}"))?
            .with_name("elite")
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(backend)
}

/// Which ONNX Runtime execution provider runs a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The CPU (always there).
    Cpu,
    /// CUDA, required: loading fails when ONNX Runtime cannot register it.
    Cuda,
    /// CUDA where it registers, else the CPU.
    Auto,
}

impl Provider {
    /// From `ELITE_ORT_PROVIDER` (`cpu`, the default; `cuda`; `auto`).
    pub fn from_env() -> Result<Self> {
        match std::env::var("ELITE_ORT_PROVIDER")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            "auto" => Ok(Self::Auto),
            other => Err(Error::Input {
                what: "ELITE_ORT_PROVIDER".into(),
                why: format!("{other:?} is not one of cpu, cuda, auto"),
            }),
        }
    }
}

/// What a model reads and writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// Feature names, in the order of the input's last axis.
    pub features: Vec<String>,
    /// Bars per input sequence; 1 for a tabular model (input `[batch, features]`).
    #[serde(default = "one")]
    pub seq_len: usize,
    /// The output to read (the first when absent).
    #[serde(default)]
    pub output: Option<String>,
    /// For an output of shape `[batch, 2]` (class probabilities), the column of "up".
    #[serde(default = "one")]
    pub up_column: usize,
    #[serde(default = "classification")]
    pub task: Task,
}

fn one() -> usize {
    1
}
fn classification() -> Task {
    Task::Classification
}

/// An ONNX model with its contract.
pub struct OnnxModel {
    session: Mutex<Session>,
    contract: Contract,
    input: String,
    output: String,
    columns: i64,
    bytes: Vec<u8>,
    provider: Provider,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("contract", &self.contract)
            .field("input", &self.input)
            .field("output", &self.output)
            .finish()
    }
}

fn shape_of(v: &ValueType) -> Option<(TensorElementType, Vec<i64>)> {
    match v {
        ValueType::Tensor { ty, shape, .. } => Some((*ty, shape.iter().copied().collect())),
        _ => None,
    }
}

/// The first line of an [`OnnxModel`] artifact (see [`Model::save`]).
pub const ARTIFACT_MAGIC: &[u8] = b"elite-onnx-artifact v1\n";

impl OnnxModel {
    /// Load a saved artifact (contract + graph), or a bare graph Elite exported.
    pub fn from_artifact(bytes: &[u8]) -> Result<Self> {
        let Some(rest) = bytes.strip_prefix(ARTIFACT_MAGIC) else {
            return Self::from_elite(bytes);
        };
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| Error::Artifact("onnx artifact: no contract line".into()))?;
        let contract: Contract = serde_json::from_slice(&rest[..nl])
            .map_err(|e| Error::Artifact(format!("onnx artifact contract: {e}")))?;
        Self::load(&rest[nl + 1..], contract)
    }

    /// The ONNX graph.
    pub fn graph(&self) -> &[u8] {
        &self.bytes
    }

    /// A model Elite exported: the contract comes from its metadata (`elite.features`,
    /// `elite.seq_len`).
    pub fn from_elite(bytes: &[u8]) -> Result<Self> {
        let m = elite_models::onnx_proto::decode(bytes)
            .map_err(|e| Error::Artifact(format!("not an ONNX model: {e}")))?;
        let meta = |k: &str| {
            m.metadata_props
                .iter()
                .find(|e| e.key.as_deref() == Some(k))
                .and_then(|e| e.value.clone())
        };
        let features = meta("elite.features").ok_or_else(|| {
            Error::Contract("no elite.features metadata: declare a contract".into())
        })?;
        let seq_len = meta("elite.seq_len")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        Self::load(
            bytes,
            Contract {
                features: features.split(',').map(String::from).collect(),
                seq_len,
                output: None,
                up_column: 1,
                task: Task::Classification,
            },
        )
    }

    /// Load `bytes` and check them against `contract`.
    pub fn load(bytes: &[u8], contract: Contract) -> Result<Self> {
        Self::load_on(bytes, contract, Provider::from_env()?)
    }

    /// [`OnnxModel::load`] on a chosen execution provider.
    pub fn load_on(bytes: &[u8], contract: Contract, provider: Provider) -> Result<Self> {
        // The graph's own metadata, where it declares features, must agree with the contract.
        if let Ok(m) = elite_models::onnx_proto::decode(bytes)
            && let Some(f) = m
                .metadata_props
                .iter()
                .find(|e| e.key.as_deref() == Some("elite.features"))
                .and_then(|e| e.value.as_deref())
        {
            let declared: Vec<String> = f.split(',').map(String::from).collect();
            check_features(&declared, &contract.features).map_err(|e| {
                Error::Contract(format!("model metadata vs declared contract: {e}"))
            })?;
        }
        let env = environment()?;
        let mut builder = Session::builder(env)
            .map_err(backend)?
            .with_intra_threads(1)
            .map_err(backend)?;
        let provider = match provider {
            Provider::Cpu => Provider::Cpu,
            Provider::Cuda | Provider::Auto => {
                match ort::ep::CUDA::default().register(&mut builder) {
                    Ok(()) => Provider::Cuda,
                    Err(_) if provider == Provider::Auto => Provider::Cpu,
                    Err(e) => {
                        return Err(backend(format!(
                            "the CUDA execution provider was asked for but does not register \
                             (the CPU-only onnxruntime wheel has none; use onnxruntime-gpu): {e}"
                        )));
                    }
                }
            }
        };
        let session = builder.commit_from_memory(bytes).map_err(backend)?;
        let inputs = session.inputs();
        if inputs.len() != 1 {
            return Err(Error::Contract(format!(
                "expected one input, the model has {}: {:?}",
                inputs.len(),
                inputs.iter().map(|o| o.name()).collect::<Vec<_>>()
            )));
        }
        let inp = &inputs[0];
        let (ty, dims) = shape_of(inp.dtype())
            .ok_or_else(|| Error::Contract(format!("input {:?} is not a tensor", inp.name())))?;
        if ty != TensorElementType::Float32 {
            return Err(Error::Contract(format!(
                "input {:?} is {ty:?}, expected float32",
                inp.name()
            )));
        }
        let p = contract.features.len() as i64;
        let want: Vec<i64> = if contract.seq_len > 1 {
            vec![-1, contract.seq_len as i64, p]
        } else {
            vec![-1, p]
        };
        let fits = dims.len() == want.len()
            && dims
                .iter()
                .zip(&want)
                .all(|(&d, &w)| d == -1 || w == -1 || d == w);
        if !fits {
            return Err(Error::Contract(format!(
                "input {:?} has shape {dims:?}; the contract (seq_len {}, {} features) needs {want:?} (-1 = any)",
                inp.name(),
                contract.seq_len,
                p
            )));
        }
        let outputs = session.outputs();
        let out = match &contract.output {
            Some(name) => outputs.iter().find(|o| o.name() == name).ok_or_else(|| {
                Error::Contract(format!(
                    "no output {name:?}; the model has {:?}",
                    outputs.iter().map(|o| o.name()).collect::<Vec<_>>()
                ))
            })?,
            None => outputs
                .first()
                .ok_or_else(|| Error::Contract("the model has no output".into()))?,
        };
        let (oty, odims) = shape_of(out.dtype())
            .ok_or_else(|| Error::Contract(format!("output {:?} is not a tensor", out.name())))?;
        if oty != TensorElementType::Float32 {
            return Err(Error::Contract(format!(
                "output {:?} is {oty:?}, expected float32",
                out.name()
            )));
        }
        let columns = match odims.as_slice() {
            [_] => 1,
            [_, c] if *c == 1 || *c == 2 => *c,
            other => {
                return Err(Error::Contract(format!(
                    "output {:?} has shape {other:?}; expected [batch], [batch, 1] or [batch, 2]",
                    out.name()
                )));
            }
        };
        if columns == 2 && contract.up_column > 1 {
            return Err(Error::Contract(format!(
                "up_column {} of a 2-column output",
                contract.up_column
            )));
        }
        let (input, output) = (inp.name().to_string(), out.name().to_string());
        Ok(Self {
            session: Mutex::new(session),
            contract,
            input,
            output,
            columns,
            bytes: bytes.to_vec(),
            provider,
        })
    }

    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// The execution provider the session runs on.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Run on `n` inputs laid out row-major (`n × seq_len × p`).
    pub fn run(&self, n: usize, x: Vec<f32>) -> Result<Vec<f64>> {
        if n == 0 {
            return Ok(vec![]);
        }
        let p = self.contract.features.len();
        let shape: Vec<i64> = if self.contract.seq_len > 1 {
            vec![n as i64, self.contract.seq_len as i64, p as i64]
        } else {
            vec![n as i64, p as i64]
        };
        let t = Tensor::from_array((shape, x)).map_err(backend)?;
        let mut s = self
            .session
            .lock()
            .map_err(|_| backend("session lock poisoned"))?;
        let out = s
            .run(ort::inputs![self.input.as_str() => t])
            .map_err(backend)?;
        let (_, v) = out[self.output.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(backend)?;
        let c = self.columns as usize;
        if v.len() != n * c {
            return Err(backend(format!("{} outputs for {n} inputs", v.len())));
        }
        Ok((0..n)
            .map(|i| v[i * c + if c == 2 { self.contract.up_column } else { 0 }] as f64)
            .collect())
    }
}

impl Model for OnnxModel {
    fn kind(&self) -> &str {
        "onnx"
    }
    fn task(&self) -> Task {
        self.contract.task
    }
    fn seq_len(&self) -> usize {
        self.contract.seq_len
    }
    fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        check_features(&self.contract.features, &data.features)?;
        let l = self.contract.seq_len.max(1);
        let mut x = Vec::with_capacity(rows.len() * l * data.p());
        for &i in rows {
            let w = data.window(i, l).ok_or_else(|| Error::Input {
                what: format!("row {i}"),
                why: format!("fewer than {l} bars of history"),
            })?;
            x.extend(w.iter().map(|&v| v as f32));
        }
        self.run(rows.len(), x)
    }
    /// The artifact: [`ARTIFACT_MAGIC`], the contract as one JSON line, then the ONNX bytes.
    fn save(&self) -> Result<Vec<u8>> {
        let mut out = ARTIFACT_MAGIC.to_vec();
        out.extend(serde_json::to_vec(&self.contract)?);
        out.push(b'\n');
        out.extend_from_slice(&self.bytes);
        Ok(out)
    }
}
