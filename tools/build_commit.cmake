# Writes OUT, a header defining AS_BUILD_COMMIT: the commit of SRC this
# build is of ("ce93e85", "ce93e85-dirty" with changes not committed, ""
# outside a git checkout), for `allocsel --version`, so that a record of
# what allocsel did (the rebuild's) names the allocsel that did it. Run at
# every build; rewritten only when it changes.
execute_process(COMMAND git -C "${SRC}" rev-parse --short=7 HEAD
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  set(commit "")
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain
                          --untracked-files=no
                  OUTPUT_VARIABLE changed ERROR_QUIET)
  if(changed)
    string(APPEND commit "-dirty")
  endif()
endif()
set(text "#define AS_BUILD_COMMIT \"${commit}\"\n")
file(CONFIGURE OUTPUT "${OUT}" CONTENT "${text}" @ONLY)
