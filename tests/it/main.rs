//! Integration tests, one module per theme.

mod adversarial;
mod cli;
mod corpus;
mod examples;
mod functions;
mod generated;
mod json_contract;
mod markdown;
mod properties;
mod sarif;
mod scenarios;
mod support;
mod unsafe_sites;
