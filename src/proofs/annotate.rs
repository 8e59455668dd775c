//! Annotated copies (加注件) of sealed licences: see `annotate`.
