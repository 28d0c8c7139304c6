"""What both directions' metrics share, so their histograms compare on one dashboard."""

# Histogram buckets, in seconds: for work (a handler, an HTTP attempt up to its 60 s timeout),
# and for time spent queued (seconds normally, hours behind a backlog).
WORK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600)
