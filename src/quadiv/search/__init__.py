"""quadiv.search: quality-diversity search over texts (QDAIF, Rainbow Teaming, RainbowPlus, Ferret, QDHF).

pyribs' separation: an **archive** keeps elites per cell, **emitters** make children, the **runner**
(:func:`run`) scores, describes, filters and inserts them, journaling every iteration so that a stopped
search resumes to the same archive.

- Archives: :class:`RibsArchive` (pyribs Grid with non-uniform ticks, CVT, Categorical, Proximity;
  extra ``quadiv[search]``) and :class:`MultiElementArchive` (RainbowPlus' list of elites per cell), over
  :class:`Axis` descriptors (categories, or numeric ticks such as :data:`QDAIF_TICKS`).
- Emitters: :class:`LMXEmitter` (QDAIF), :class:`RewriteEmitter` (Rainbow Teaming, RainbowPlus, Ferret),
  :class:`CallableEmitter` (any Python mutator).
- Evaluation: any quality scorer or function as fitness; :class:`JudgeCategory`, judge probabilities,
  functions, or :class:`LearnedProjection` (QDHF, with a :class:`TripletJudge`) as descriptors; a pairwise judge as ``contest``;
  :class:`SimilarityFilter` (BLEU).
- :func:`run`, :func:`write_archive`, :func:`summary_path`, :func:`history_path`; :func:`load_config`, :func:`build_search` and
  :func:`run_config` for ``quadiv search --config SEARCH.toml`` (:data:`ALGORITHMS`: the published defaults).
"""
from quadiv.search._archive import ArchiveBase, Elite
from quadiv.search._axes import QDAIF_TICKS, Axis
from quadiv.search._config import ALGORITHMS, SearchConfig, build_search, load_config, run_config
from quadiv.search._emitters import EMITTERS, CallableEmitter, Child, Emitter, LMXEmitter, RewriteEmitter
from quadiv.search._evaluate import JudgeCategory, SimilarityFilter
from quadiv.search._multi import MultiElementArchive
from quadiv.search._qdhf import LearnedProjection, TripletJudge
from quadiv.search._ribs import RibsArchive
from quadiv.search._runner import HISTORY_COLUMNS, history_path, run, summary_path, write_archive

__all__ = ["ALGORITHMS", "EMITTERS", "HISTORY_COLUMNS", "QDAIF_TICKS", "ArchiveBase", "Axis", "CallableEmitter", "Child", "Elite", "Emitter", "JudgeCategory",
           "LMXEmitter", "LearnedProjection", "MultiElementArchive", "RewriteEmitter", "RibsArchive", "SearchConfig", "SimilarityFilter",
           "TripletJudge", "build_search", "history_path", "load_config", "run", "run_config", "summary_path", "write_archive"]
