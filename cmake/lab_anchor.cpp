// Gives every lab library one object file, so header-only labs link like the others.
