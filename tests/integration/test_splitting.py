import itertools
from pathlib import Path

from ingest.loaders import load_file
from ingest.splitting import MIN_WORDS, is_fragment, make_splitter, split_file
from tests.helpers import LLM_ARTICLES

SENTENCE_ENDS = (*tuple("。！？；!?;.，,、\n"), "”", "」", ")", "）")


def chunks_of(path: Path, size: int = 300, overlap: int = 50):
    return split_file(load_file(path, 10**8), path.name, make_splitter(size, overlap))


def test_chunks_respect_size_and_end_at_sentence_boundaries() -> None:
    path = LLM_ARTICLES / "llm-history-and-transformer-explained.txt"
    source = path.read_text(encoding="utf-8") + "\n"
    chunks = chunks_of(path)
    assert len(chunks) > 20
    # a fragment (a heading) joined to the chunk under it may add its few letters
    assert all(len(c.page_content) <= 300 + 3 * MIN_WORDS for c in chunks)
    ends = [
        c.page_content.endswith(SENTENCE_ENDS) or source[c.metadata["end"]] == "\n" for c in chunks
    ]
    assert sum(ends) / len(ends) > 0.9  # a few long sentences must be cut at commas/space


def test_offsets_point_into_the_source_and_metadata_is_complete() -> None:
    path = LLM_ARTICLES / "aigc-large-language-models.txt"
    source = path.read_text(encoding="utf-8")
    chunks = chunks_of(path)
    for i, chunk in enumerate(chunks):
        meta = chunk.metadata
        assert meta["source"] == path.name
        assert meta["chunk_index"] == i
        assert meta["title"] == path.stem
        assert source[meta["start"] : meta["end"]] == chunk.page_content
        assert len(meta["content_hash"]) == 64


def test_splitting_is_deterministic() -> None:
    path = LLM_ARTICLES / "llm-overview-and-langchain.txt"
    assert chunks_of(path) == chunks_of(path)


def test_overlap_repeats_text_between_neighbours() -> None:
    path = LLM_ARTICLES / "llm-history-and-transformer-explained.txt"
    chunks = chunks_of(path, size=200, overlap=80)
    overlapping = sum(
        a.metadata["end"] > b.metadata["start"] for a, b in itertools.pairwise(chunks)
    )
    assert overlapping > len(chunks) / 4


def test_no_chunk_is_only_a_heading_or_a_fragment() -> None:
    """A heading travels with the text under it and keeps its section title: the RAG
    sample's H1 and H2 lines each used to be a chunk of their own."""
    samples = Path(__file__).resolve().parents[2] / "samples"
    for path in [*sorted(samples.iterdir()), *sorted(LLM_ARTICLES.iterdir())]:
        chunks = chunks_of(path)
        lonely = [c.page_content for c in chunks if is_fragment(c.page_content)]
        assert not lonely, (path.name, lonely)
    rag = chunks_of(samples / "rag-retrieval-augmented-generation.md")
    first = rag[0]
    assert first.page_content.startswith("# Retrieval-Augmented Generation (RAG)\n\n## The idea")
    assert "A language model only knows" in first.page_content
    assert first.metadata["headings"] == "Retrieval-Augmented Generation (RAG) > The idea"
    source = (samples / "rag-retrieval-augmented-generation.md").read_text(encoding="utf-8")
    assert all(source[c.metadata["start"] : c.metadata["end"]] == c.page_content for c in rag)
