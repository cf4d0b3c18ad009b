/* placeholder: replaced by the TOML work */
int main(void) { return 1; }
