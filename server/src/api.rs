//! The versioned JSON API under `/api/v1`, documented by the OpenAPI
//! document it serves at `/api/v1/openapi.json` (generated from these
//! handlers with utoipa, so it cannot drift from what they accept).

pub mod extract;
pub mod v1;
