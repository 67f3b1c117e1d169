//! Stage 1: source text -> AST, with located errors.
