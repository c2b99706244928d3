//! `/admin/audit`: the audit log, filtered by who (the actor's email or id), what (the
//! action or its start), when (a date range, UTC days) and the object (target type and
//! id), newest first with cursor paging.

pub mod http;
pub mod model;
