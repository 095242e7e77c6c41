"""`python -m server.lsp`: start the language server over stdio."""

import sys

from server.lsp.command import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
