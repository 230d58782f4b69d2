"""What the collectors and the checks of one source both need, once: the evidence keys they
share, the rules both apply (a bucket's region, whether a KMS key rotates, the audit window)
and the ARNs both build. One module per source; it imports neither the checks nor the collectors."""
