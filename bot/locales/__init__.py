"""Every message a person sees, one module per language, with the same keys."""
