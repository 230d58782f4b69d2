"""The audit period as the unit of evidence (SOC 2 Type 2): a period bundle built from the run
bundles of the period, with no API call.

    coverage.csv / coverage.json    per control, per day: the worst verdict of that day's runs, or `gap`
    deviations.csv                  per failing resource, per episode: when it failed, when it was fixed,
                                    whether within the control's `remediate_within_days`
    populations/*.csv               the period's populations (merged pull requests, joiners, leavers),
                                    each row with the evidence records that show it

`runs` finds the period's runs, `coverage` and `deviations` compute from the run bundles alone
(so `evidence evaluate` on a period bundle recomputes them), `populations` reads the runs'
evidence, `bundle` writes, seals and verifies the period bundle.
"""
