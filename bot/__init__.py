"""clair-bot core: configuration, knowledge base, matcher, storage and the command line."""
