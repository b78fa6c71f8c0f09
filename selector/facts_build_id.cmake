# Writes OUT, a header defining AS_FACTS_BUILD_ID: a hash of SOURCES (the
# selector's own files, ';'-separated), which decide what a file's cached
# facts are. A change to any of them makes older facts unread.
set(all "")
foreach(f IN LISTS SOURCES)
  file(SHA256 "${f}" h)
  string(APPEND all "${h}")
endforeach()
string(SHA256 id "${all}")
string(SUBSTRING "${id}" 0 32 id)
set(text "#define AS_FACTS_BUILD_ID \"${id}\"\n")
# Rewritten only when it changes: what includes it rebuilds only then.
file(CONFIGURE OUTPUT "${OUT}" CONTENT "${text}" @ONLY)
