/* placeholder until the harness library lands */
int treeproof_placeholder;
