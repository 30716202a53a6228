"""LangChain's standard integration suite on the real default model (MiniLM on CPU, offline)."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from langchain_loracode import LoRACodeEmbeddings


class TestLoRACodeEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @pytest.fixture(autouse=True)
    def _share_default_model(self, default_model) -> None:
        # The default bundle, loaded once per session (the fixture calls LoRACodeModel.from_pretrained()).
        self._default_model = default_model

    @property
    def embeddings_class(self) -> type[LoRACodeEmbeddings]:
        return LoRACodeEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"language": "python", "model": self._default_model}
