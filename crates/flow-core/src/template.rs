//! Templates: text with `{{variable}}`, `{{variable.path}}` and `{{secret.NAME}}` placeholders.
