"""The knowledge routes' response models match what the routes build (no model needed)."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from pydantic import ValidationError

from app.api import knowledge_schemas as out
from app.api.jobs import JobStatus
from app.knowledge.types import DocumentInfo, KnowledgeBaseInfo, RefusedUpload, SavedUploads


def test_every_knowledge_route_result_fits_its_model() -> None:
    job = JobStatus(id="j1", kind="reindex", knowledge_base="kb").as_dict()
    out.KnowledgeBaseList.model_validate(
        {"object": "list", "data": [asdict(KnowledgeBaseInfo("kb", 3))]}
    )
    out.DocumentList.model_validate({"object": "list", "data": [asdict(DocumentInfo("a.md", 2))]})
    saved = SavedUploads(saved=["a.md"], refused=[RefusedUpload("b.exe", "unsupported")])
    out.UploadAccepted.model_validate({**asdict(saved), "job": job})
    out.JobAccepted.model_validate({"job": job})
    out.DeletedOut.model_validate({"source": "a.md", "chunks_deleted": 2})
    out.KnowledgeBaseOut.model_validate(asdict(KnowledgeBaseInfo("kb", 0)))


def test_a_field_the_models_do_not_declare_is_caught() -> None:
    job = JobStatus(id="j1", kind="reindex", knowledge_base="kb").as_dict()
    with pytest.raises(ValidationError):
        out.JobAccepted.model_validate({"job": {**job, "owner": "a digest"}})  # never shown
