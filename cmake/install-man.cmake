# cmake/install-man.cmake — run at install time (install(SCRIPT), set up in
# cmake/install.cmake): every man page in TREEPROOF_MAN_LIST, then any
# *.1 *.5 *.7 in TREEPROOF_MAN_DIRS (first of a name wins), installed into
# PREFIX/TREEPROOF_MANDIR/manN/ by its suffix. Installs nothing, and makes
# no directory, when there is no page.
cmake_policy(VERSION 3.25)  # install scripts start with no policies set (IN_LIST)
set(pages ${TREEPROOF_MAN_LIST})
foreach(dir IN LISTS TREEPROOF_MAN_DIRS)
  file(GLOB found "${dir}/*.1" "${dir}/*.5" "${dir}/*.7")
  list(SORT found)
  list(APPEND pages ${found})
endforeach()
if(IS_ABSOLUTE "${TREEPROOF_MANDIR}")
  set(mandir "${TREEPROOF_MANDIR}")
else()
  set(mandir "${CMAKE_INSTALL_PREFIX}/${TREEPROOF_MANDIR}")
endif()
set(seen "")
foreach(page IN LISTS pages)
  get_filename_component(name "${page}" NAME)
  if(name IN_LIST seen)
    continue()
  endif()
  list(APPEND seen "${name}")
  if(NOT EXISTS "${page}")
    message(FATAL_ERROR "man page ${page} (TREEPROOF_MAN_PAGES) is not built: "
            "cmake --build BUILD --target man, then install again")
  endif()
  if(NOT name MATCHES "\\.([157])$")
    message(FATAL_ERROR "man page ${page}: not a *.1, *.5 or *.7 file")
  endif()
  file(INSTALL DESTINATION "${mandir}/man${CMAKE_MATCH_1}" TYPE FILE FILES "${page}")
endforeach()
