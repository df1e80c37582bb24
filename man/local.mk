# Manual pages, written in man(7) roff and shipped as they are.
dist_man1_MANS = man/cladding.1
dist_man5_MANS = man/cladding.json.5
