//! The desk's templates.
