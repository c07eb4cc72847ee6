# cmake/install-pc.cmake — run at install time (install(SCRIPT), set up in
# cmake/install.cmake): configure edn/treeproof-edn.pc.in for the prefix
# being installed into (CMAKE_INSTALL_PREFIX as `cmake --install --prefix`
# or CPack sets it) and install it into LIBDIR/pkgconfig.
cmake_policy(VERSION 3.25)  # install scripts start with no policies set
set(prefix "${CMAKE_INSTALL_PREFIX}")
foreach(kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${TREEPROOF_PC_${kind}}")
    set(pc_${kind} "${TREEPROOF_PC_${kind}}")
    set(abs_${kind} "${TREEPROOF_PC_${kind}}")
  else()
    set(pc_${kind} "\${prefix}/${TREEPROOF_PC_${kind}}")
    set(abs_${kind} "${prefix}/${TREEPROOF_PC_${kind}}")
  endif()
endforeach()
set(PC_PREFIX "${prefix}")
set(PC_LIBDIR "${pc_LIBDIR}")
set(PC_INCLUDEDIR "${pc_INCLUDEDIR}")
set(PC_VERSION "${TREEPROOF_PC_VERSION}")
configure_file("${TREEPROOF_PC_IN}" "${TREEPROOF_PC_OUT}" @ONLY)
file(INSTALL DESTINATION "${abs_LIBDIR}/pkgconfig" TYPE FILE FILES "${TREEPROOF_PC_OUT}")
