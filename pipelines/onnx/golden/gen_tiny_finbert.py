"""A FinBERT-shaped text classifier made outside Elite, for the `finbert` scorer's parity tests.

No model hub is reachable from here, so this builds a *small BERT with random weights* from a config
(2 layers, hidden 32, 4 heads, intermediate 64, 128 positions, 3 labels) as a plain ONNX graph
(onnx.helper, opset 17): word + position + token-type embeddings, LayerNorm, self-attention with
the additive attention mask, exact-erf GELU feed-forward, the tanh pooler on [CLS] and a linear
classifier — the graph shape of Hugging Face's BertForSequenceClassification exported to ONNX,
with inputs `input_ids`, `attention_mask`, `token_type_ids` (int64 [batch, seq]) and output `logits`
(float [batch, 3]). Labels in ProsusAI/finbert's order: 0 positive, 1 negative, 2 neutral.

The tokenizer is a lowercasing BERT WordPiece tokenizer (Hugging Face `tokenizers`: BERT normalizer and
pre-tokenizer, [CLS] $A [SEP]) whose vocabulary comes from the repository's own sentences (VADER's
reference sentences and the headlines below); saved as
tokenizer.json without truncation, as FinBERT's is (the scorer truncates to the model's positions).

Writes tiny_finbert/{model.onnx, tokenizer.json, config.json} and tiny_finbert_reference.json: for
each reference text, the token ids from Python `tokenizers` (truncated to 128) and the logits and
softmax probabilities from Python `onnxruntime` — the values Elite must reproduce (ids exactly,
numbers to 1e-5). The weights are random: the scores mean nothing about sentiment.

Run: python gen_tiny_finbert.py   (pip install onnx==1.23.2 tokenizers==0.22.2 onnxruntime==1.31.1 numpy)"""
import csv, json, os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "tiny_finbert")
os.makedirs(out, exist_ok=True)

HEADLINES = [
    "Shares of the company rose 5% after quarterly profit beat analyst estimates.",
    "Net sales decreased to EUR 10.2 mn from EUR 12.5 mn a year earlier.",
    "The board proposes a dividend of EUR 0.50 per share.",
    "Operating loss widened as demand for steel weakened in Europe.",
    "The bank cut its full-year guidance, citing lower interest income.",
    "Revenue grew strongly, driven by record orders from telecom operators.",
    "The company will hold its annual general meeting on 15 March.",
    "Reliance Industries Q3 net profit jumps 12% YoY; Jio ARPU improves.",
    "Infosys shares slump after the IT major trims its revenue outlook.",
    "SEBI imposes a penalty on the promoter for delayed disclosure.",
]
texts_corpus = [r["text"] for r in csv.DictReader(open(os.path.join(here, "../../text/tests/data/vader_reference.csv")))]
corpus = texts_corpus + HEADLINES

# The vocabulary, built deterministically: the special tokens, every character seen (alone and as a
# "##" continuation) and every word seen at least twice, after BERT's normalizer and pre-tokenizer;
# rarer words are split into pieces.
norm, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
counts = {}
for t in corpus:
    for word, _ in pre.pre_tokenize_str(norm.normalize_str(t)):
        counts[word] = counts.get(word, 0) + 1
chars = sorted({c for word in counts for c in word})
words = sorted(w_ for w_, n in counts.items() if n >= 2 and len(w_) > 1)
tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars] + words
tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(tokens)}, unk_token="[UNK]", max_input_chars_per_word=100))
tok.normalizer, tok.pre_tokenizer, tok.decoder = norm, pre, decoders.WordPiece()
tok.post_processor = processors.TemplateProcessing(
    single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
tok.save(os.path.join(out, "tokenizer.json"))
vocab = tok.get_vocab_size()

cfg = {
    "architectures": ["BertForSequenceClassification"],
    "model_type": "bert",
    "vocab_size": vocab,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "max_position_embeddings": 128,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "hidden_act": "gelu",
    "id2label": {"0": "positive", "1": "negative", "2": "neutral"},
    "label2id": {"positive": 0, "negative": 1, "neutral": 2},
    "elite_note": "random weights (seed 2): a parity fixture, not a sentiment model",
}
json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)

H, L, NH, I, P = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["intermediate_size"], cfg["max_position_embeddings"]
DH = H // NH
rng = np.random.default_rng(2)
inits, nodes = [], []


def w(name, *shape, scale=0.3):
    a = (rng.standard_normal(shape) * scale).astype(np.float32)
    inits.append(numpy_helper.from_array(a, name))
    return name


def const(name, arr):
    inits.append(numpy_helper.from_array(np.asarray(arr), name))
    return name


def node(op, ins, out, **attrs):
    nodes.append(helper.make_node(op, ins, [out], **attrs))
    return out


def ln(x, prefix):
    g = const(prefix + ".gamma", (1.0 + rng.standard_normal(H) * 0.1).astype(np.float32))
    b = w(prefix + ".beta", H, scale=0.1)
    return node("LayerNormalization", [x, g, b], prefix + ".out", axis=-1, epsilon=cfg["layer_norm_eps"])


def dense(x, prefix, n_in, n_out, gain=1.0):
    m = node("MatMul", [x, w(prefix + ".w", n_in, n_out, scale=gain / np.sqrt(n_in))], prefix + ".mm")
    return node("Add", [m, w(prefix + ".b", n_out, scale=0.1)], prefix + ".out")


# Embeddings.
word = node("Gather", [w("emb.word", vocab, H, scale=1.0), "input_ids"], "emb.word.out")
shape = node("Shape", ["input_ids"], "ids.shape")
seq = node("Gather", [shape, const("one_i", np.array(1, dtype=np.int64))], "ids.seq")
pos_ids = node("Range", [const("zero_i", np.array(0, dtype=np.int64)), seq, const("step_i", np.array(1, dtype=np.int64))], "pos.ids")
pos = node("Gather", [w("emb.pos", P, H, scale=1.0), pos_ids], "emb.pos.out")
typ = node("Gather", [w("emb.type", cfg["type_vocab_size"], H, scale=1.0), "token_type_ids"], "emb.type.out")
x = node("Add", [node("Add", [word, pos], "emb.sum1"), typ], "emb.sum")
x = ln(x, "emb.ln")

# Additive mask: (1 - mask) * -10000, as [batch, 1, 1, seq].
maskf = node("Cast", ["attention_mask"], "mask.f", to=TensorProto.FLOAT)
inv = node("Sub", [const("one_f", np.array(1.0, dtype=np.float32)), maskf], "mask.inv")
add_mask = node("Mul", [inv, const("neg_big", np.array(-10000.0, dtype=np.float32))], "mask.add")
add_mask = node("Unsqueeze", [add_mask, const("mask.axes", np.array([1, 2], dtype=np.int64))], "mask.4d")
heads_shape = const("heads.shape", np.array([0, 0, NH, DH], dtype=np.int64))
merge_shape = const("merge.shape", np.array([0, 0, H], dtype=np.int64))
scale = const("att.scale", np.array(np.sqrt(DH), dtype=np.float32))
sqrt2 = const("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
half = const("half", np.array(0.5, dtype=np.float32))

for l in range(L):
    p = f"l{l}"
    q = node("Transpose", [node("Reshape", [dense(x, p + ".q", H, H), heads_shape], p + ".q4")], p + ".qt", perm=[0, 2, 1, 3])
    k = node("Transpose", [node("Reshape", [dense(x, p + ".k", H, H), heads_shape], p + ".k4")], p + ".kt", perm=[0, 2, 3, 1])
    v = node("Transpose", [node("Reshape", [dense(x, p + ".v", H, H), heads_shape], p + ".v4")], p + ".vt", perm=[0, 2, 1, 3])
    s = node("Div", [node("MatMul", [q, k], p + ".qk"), scale], p + ".qks")
    a = node("Softmax", [node("Add", [s, add_mask], p + ".masked")], p + ".att", axis=-1)
    c = node("Transpose", [node("MatMul", [a, v], p + ".ctx4")], p + ".ctxt", perm=[0, 2, 1, 3])
    c = node("Reshape", [c, merge_shape], p + ".ctx")
    x = ln(node("Add", [x, dense(c, p + ".o", H, H)], p + ".res1"), p + ".ln1")
    h = dense(x, p + ".ff1", H, I)
    erf = node("Erf", [node("Div", [h, sqrt2], p + ".hs")], p + ".erf")
    g = node("Mul", [node("Mul", [h, half], p + ".hh"), node("Add", [erf, const(p + ".one", np.array(1.0, dtype=np.float32))], p + ".erf1")], p + ".gelu")
    x = ln(node("Add", [x, dense(g, p + ".ff2", I, H)], p + ".res2"), p + ".ln2")

cls = node("Gather", [x, const("zero_idx", np.array(0, dtype=np.int64))], "cls", axis=1)
pooled = node("Tanh", [dense(cls, "pool", H, H)], "pooled")
logits = dense(pooled, "cls_head", H, 3, gain=8.0)
nodes.append(helper.make_node("Identity", [logits], ["logits"]))

ints = lambda n: helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
graph = helper.make_graph(nodes, "tiny_finbert", [ints("input_ids"), ints("attention_mask"), ints("token_type_ids")],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gen_tiny_finbert.py")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "model.onnx"))

# Reference: Python tokenizers (truncated to the positions) + Python onnxruntime, one text at a time.

ref_tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
ref_tok.enable_truncation(max_length=P)
sess = ort.InferenceSession(os.path.join(out, "model.onnx"), providers=["CPUExecutionProvider"])
texts = texts_corpus[:40] + HEADLINES + [
    "",
    "Ünïcödé naïve café — résumé: profits ↑ 3 %!",
    "word " * 200,  # longer than 128 positions: truncated
]
rows = []
for t in texts:
    e = ref_tok.encode(t)
    feed = {
        "input_ids": np.array([e.ids], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids], dtype=np.int64),
    }
    lg = sess.run(["logits"], feed)[0][0].astype(np.float64)
    pr = np.exp(lg - lg.max())
    pr /= pr.sum()
    rows.append({"text": t, "ids": e.ids, "logits": lg.tolist(),
                 "positive": pr[0], "negative": pr[1], "neutral": pr[2]})
json.dump({"max_length": P, "rows": rows}, open(os.path.join(here, "tiny_finbert_reference.json"), "w"), indent=1)
labels = [max(("positive", "negative", "neutral"), key=lambda k: r[k]) for r in rows]
print("vocab", vocab, "texts", len(rows), "argmax counts", {k: labels.count(k) for k in set(labels)})
