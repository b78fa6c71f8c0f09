# allocsel's CMake package:
#
#   find_package(allocsel CONFIG REQUIRED)   # CMAKE_PREFIX_PATH=P
#   allocsel_target(app)                      # app links through allocsel
#   allocsel_target(app ALLOCATOR system)     # ... with system requested
#   allocsel_add_staticlib(foo ALLOCATOR jemalloc foo.c)  # libfoo.a, whole
#   allocsel_seal(ra_sealed ra KEEP ra_sum)   # libra made a sealed guest
#
# Imported targets: allocsel::allocsel (the command), allocsel::allocsel-ld,
# allocsel::plugin (the GNU linker plugin), allocsel::headers (the include
# directory). On CMake 3.29 and later, CMAKE_LINKER_TYPE=ALLOCSEL routes
# every link of the project through allocsel-ld as well.
include_guard(GLOBAL)

get_filename_component(_allocsel_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.."
                       ABSOLUTE)
set(ALLOCSEL_LD "${_allocsel_prefix}/bin/allocsel-ld")
set(ALLOCSEL_COMMAND "${_allocsel_prefix}/bin/allocsel")
set(ALLOCSEL_PLUGIN "${_allocsel_prefix}/lib/allocsel/allocsel-plugin.so")
set(ALLOCSEL_LD_DIR "${_allocsel_prefix}/lib/allocsel/ld")
set(ALLOCSEL_INCLUDE_DIR "${_allocsel_prefix}/include")

foreach(_allocsel_file ALLOCSEL_LD ALLOCSEL_COMMAND ALLOCSEL_PLUGIN)
  if(NOT EXISTS "${${_allocsel_file}}")
    set(allocsel_FOUND FALSE)
    set(allocsel_NOT_FOUND_MESSAGE
        "allocsel: ${${_allocsel_file}} is missing from the install")
    return()
  endif()
endforeach()

if(NOT TARGET allocsel::allocsel)
  add_executable(allocsel::allocsel IMPORTED)
  set_target_properties(allocsel::allocsel PROPERTIES
    IMPORTED_LOCATION "${ALLOCSEL_COMMAND}")
  add_executable(allocsel::allocsel-ld IMPORTED)
  set_target_properties(allocsel::allocsel-ld PROPERTIES
    IMPORTED_LOCATION "${ALLOCSEL_LD}")
  add_library(allocsel::plugin MODULE IMPORTED)
  set_target_properties(allocsel::plugin PROPERTIES
    IMPORTED_LOCATION "${ALLOCSEL_PLUGIN}")
  add_library(allocsel::headers INTERFACE IMPORTED)
  set_target_properties(allocsel::headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${ALLOCSEL_INCLUDE_DIR}")
endif()

# The flags that make each compiler link through allocsel-ld over the
# linker the build chose: gcc and clang find their linker by name (ld, or
# ld.lld, ld.gold, ld.mold for -fuse-ld=) in allocsel's -B directory, where
# each name is allocsel-ld over that linker.
set(_allocsel_gnu_flags "-B${ALLOCSEL_LD_DIR}")
set(_allocsel_clang_flags "-B${ALLOCSEL_LD_DIR}")

# CMake 3.29+: set(CMAKE_LINKER_TYPE ALLOCSEL) before the targets.
foreach(_allocsel_lang C CXX)
  if(CMAKE_${_allocsel_lang}_COMPILER_ID STREQUAL "GNU")
    set(CMAKE_${_allocsel_lang}_USING_LINKER_ALLOCSEL ${_allocsel_gnu_flags})
  elseif(CMAKE_${_allocsel_lang}_COMPILER_ID MATCHES "Clang")
    set(CMAKE_${_allocsel_lang}_USING_LINKER_ALLOCSEL ${_allocsel_clang_flags})
  endif()
endforeach()

# The value of --allocsel-allocator for ALLOCATOR: a name (system, jemalloc,
# ...), a path, or a target (an OBJECT library of one object, or a static
# library) holding the user's allocator.
function(_allocsel_allocator_value out value consumer)
  if(TARGET "${value}")
    get_target_property(_type "${value}" TYPE)
    if(_type STREQUAL "OBJECT_LIBRARY")
      set(${out} "$<TARGET_OBJECTS:${value}>" PARENT_SCOPE)
    elseif(_type STREQUAL "STATIC_LIBRARY")
      set(${out} "$<TARGET_FILE:${value}>" PARENT_SCOPE)
    else()
      message(FATAL_ERROR "allocsel: ALLOCATOR ${value} must be an OBJECT or "
                          "STATIC library target, or a name or path")
    endif()
    if(consumer)
      add_dependencies(${consumer} ${value})
    endif()
  else()
    set(${out} "${value}" PARENT_SCOPE)
  endif()
endfunction()

# allocsel_target(<target> [ALLOCATOR <system|jemalloc|NAME|PATH|target>])
function(allocsel_target target)
  cmake_parse_arguments(PARSE_ARGV 1 _arg "" "ALLOCATOR" "")
  if(NOT TARGET ${target})
    message(FATAL_ERROR "allocsel_target: no target ${target}")
  endif()
  set(_opts)
  foreach(_lang C CXX)
    list(APPEND _opts
      "$<$<LINK_LANG_AND_ID:${_lang},GNU>:${_allocsel_gnu_flags}>"
      "$<$<LINK_LANG_AND_ID:${_lang},Clang,AppleClang>:${_allocsel_clang_flags}>")
  endforeach()
  target_link_options(${target} PRIVATE ${_opts})
  target_link_libraries(${target} PRIVATE allocsel::headers)
  if(_arg_ALLOCATOR)
    _allocsel_allocator_value(_value "${_arg_ALLOCATOR}" ${target})
    target_link_options(${target} PRIVATE
                        "LINKER:--allocsel-allocator=${_value}")
  endif()
endfunction()

# allocsel_add_staticlib(<name> [ALLOCATOR <...>] <object library|source>...)
# A self-contained static library (allocsel's staticlib output): every
# member of its inputs and the allocator, so a plain `cc main.o libNAME.a`
# link uses it. <name> is an imported target of it; its users get the
# system libraries it needs (jemalloc's code: libm, libpthread), also in
# <name>_SYSTEM_LIBRARIES.
function(allocsel_add_staticlib name)
  cmake_parse_arguments(PARSE_ARGV 1 _arg "" "ALLOCATOR" "")
  set(_objects)
  set(_sources)
  set(_deps)
  foreach(_item IN LISTS _arg_UNPARSED_ARGUMENTS)
    if(TARGET "${_item}")
      list(APPEND _objects "$<TARGET_OBJECTS:${_item}>")
      list(APPEND _deps ${_item})
    else()
      list(APPEND _sources "${_item}")
    endif()
  endforeach()
  if(_sources)
    add_library(${name}_allocsel_objects OBJECT ${_sources})
    set_target_properties(${name}_allocsel_objects PROPERTIES
      POSITION_INDEPENDENT_CODE ON)
    target_link_libraries(${name}_allocsel_objects PRIVATE allocsel::headers)
    list(APPEND _objects "$<TARGET_OBJECTS:${name}_allocsel_objects>")
    list(APPEND _deps ${name}_allocsel_objects)
  endif()
  set(_request)
  set(_system)
  if(_arg_ALLOCATOR)
    _allocsel_allocator_value(_value "${_arg_ALLOCATOR}" "")
    set(_request "--allocator=${_value}")
    if(TARGET "${_arg_ALLOCATOR}")
      list(APPEND _deps ${_arg_ALLOCATOR})
    endif()
    if(_arg_ALLOCATOR STREQUAL "jemalloc")
      set(_system m pthread)
    endif()
  endif()
  set(_out "${CMAKE_CURRENT_BINARY_DIR}/lib${name}.a")
  add_custom_command(
    OUTPUT "${_out}"
    COMMAND allocsel::allocsel staticlib -o "${_out}" ${_request} ${_objects}
    DEPENDS ${_deps} ${_objects}
    COMMENT "allocsel staticlib lib${name}.a"
    COMMAND_EXPAND_LISTS
    VERBATIM)
  add_custom_target(${name}_allocsel_staticlib ALL DEPENDS "${_out}")
  add_library(${name} STATIC IMPORTED GLOBAL)
  set_target_properties(${name} PROPERTIES
    IMPORTED_LOCATION "${_out}"
    INTERFACE_LINK_LIBRARIES "${_system}")
  add_dependencies(${name} ${name}_allocsel_staticlib)
  set(${name}_SYSTEM_LIBRARIES "${_system}" PARENT_SCOPE)
endfunction()

# allocsel_seal(<name> <library> [KEEP <symbol>...] [KEEP_LIST <file>]
#               [LINK_LIBRARIES <lib>...])
# <library> (a static library target, imported or built here, or the path
# of an archive) sealed by `allocsel seal`: one object holding what the
# kept API reaches, everything else it defines (its runtime, its allocator,
# a bundled malloc) local to it. <name> is an imported target of the sealed
# archive; its users get libm and LINK_LIBRARIES (stdc++ for a C++
# library: the seal's note names what it needs). Without KEEP or KEEP_LIST
# the API is the library's own global C names.
function(allocsel_seal name library)
  cmake_parse_arguments(PARSE_ARGV 2 _arg "" "KEEP_LIST"
                        "KEEP;LINK_LIBRARIES")
  set(_keep)
  foreach(_symbol IN LISTS _arg_KEEP)
    list(APPEND _keep "--keep=${_symbol}")
  endforeach()
  set(_deps)
  if(_arg_KEEP_LIST)
    get_filename_component(_list "${_arg_KEEP_LIST}" ABSOLUTE)
    list(APPEND _keep "--keep-list=${_list}")
    list(APPEND _deps "${_list}")
  endif()
  if(TARGET "${library}")
    set(_input "$<TARGET_FILE:${library}>")
    get_target_property(_imported ${library} IMPORTED)
    if(_imported)
      get_target_property(_location ${library} IMPORTED_LOCATION)
      if(_location)
        list(APPEND _deps "${_location}")
      endif()
    else()
      list(APPEND _deps ${library})
    endif()
  else()
    get_filename_component(_input "${library}" ABSOLUTE)
    list(APPEND _deps "${_input}")
  endif()
  set(_out "${CMAKE_CURRENT_BINARY_DIR}/lib${name}.a")
  add_custom_command(
    OUTPUT "${_out}"
    COMMAND allocsel::allocsel seal -o "${_out}" ${_keep} "${_input}"
    DEPENDS ${_deps}
    COMMENT "allocsel seal lib${name}.a"
    VERBATIM)
  add_custom_target(${name}_allocsel_seal ALL DEPENDS "${_out}")
  add_library(${name} STATIC IMPORTED GLOBAL)
  set_target_properties(${name} PROPERTIES
    IMPORTED_LOCATION "${_out}"
    INTERFACE_LINK_LIBRARIES "m;${_arg_LINK_LIBRARIES}")
  add_dependencies(${name} ${name}_allocsel_seal)
endfunction()
