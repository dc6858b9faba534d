//! Scenario files -> one validated, expanded Plan.
