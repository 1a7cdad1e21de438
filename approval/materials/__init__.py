"""The materials' files (issue 13 item 1): kept once by content hash in the data directory
(approval.materials.store), uploaded, opened and downloaded over HTTP by the API and the
console (approval.materials.serving). Only a file's reference and SHA-256 enter a case."""
