/* A shared library that is not a TokenHub plugin: it exports no entry function. */
int some_other_function(void);
int some_other_function(void) { return 42; }
