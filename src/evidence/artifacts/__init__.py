"""Declared artifacts: files a bundle holds besides the findings, each a pure function of the
evidence index (a population for sampling, say), registered like checks under the
`evidence.artifacts` entry point. The runner writes every artifact into the bundle it
builds; `evidence evaluate` builds them again from the bundle's evidence and names any that
differ from what the bundle holds.
"""

from evidence.artifacts.base import Artifact, ArtifactResult, artifact, build_artifacts, compare_artifacts

__all__ = ["Artifact", "ArtifactResult", "artifact", "build_artifacts", "compare_artifacts"]
