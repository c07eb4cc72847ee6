# cmake/install.cmake — what `cmake --install BUILD [--prefix P]` puts where,
# and the Debian package `cpack -G DEB` (run in BUILD) makes of the same
# files. Included last by the top-level CMakeLists.txt, when every target
# exists. Directories are GNUInstallDirs' (relative to the prefix):
#
#   bin/treeproof, bin/watvm        the two programs, side by side: an
#                                   installed treeproof finds the watvm
#                                   beside it (harness/cli/node_cmd.c)
#   share/treeproof/trees/          the shipped scenarios (trees/*.yaml),
#                                   regressions/ the reproducers
#   share/treeproof/nodes/          the second node, in Python:
#                                   python3 .../nodes/node.py (and README.md)
#   share/doc/treeproof/            README.md and docs/*.md
#   share/man/manN/                 man pages, when there are any (the
#                                   TREEPROOF_MAN_PAGES hook below)
#   lib/libedn.a                    the EDN codec, for use on its own:
#   include/treeproof/edn.h         #include <treeproof/edn.h>,
#   lib/pkgconfig/treeproof-edn.pc  pkg-config --cflags --libs treeproof-edn
#
# Nothing else: no unit, conformance or install test, benchmark or fuzz
# binary, and none of the layers' static libraries (rt_*, tp_*) but the
# codec's. Two components: `tool` (everything but the codec) and `edn` (the
# codec), e.g. `cmake --install BUILD --component edn`; the .deb holds both.

# ---- the programs -----------------------------------------------------------
install(TARGETS watvm treeproof RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT tool)

# ---- scenarios, the Python node, documentation -------------------------------
file(GLOB tp_trees CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/trees/*.yaml)
file(GLOB tp_regressions CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/trees/regressions/*.yaml)
install(FILES ${tp_trees}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/treeproof/trees COMPONENT tool)
install(FILES ${tp_regressions}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/treeproof/trees/regressions
        COMPONENT tool)

# node.py and the modules it imports from its own directory; not
# check_edn.py, a test that reads fixtures/edn/ (which is not installed),
# nor test_supervision.py (a test of the node itself).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/fixtures/nodes/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/treeproof/nodes
        COMPONENT tool USE_SOURCE_PERMISSIONS
        FILES_MATCHING PATTERN "*.py" PATTERN "README.md"
        PATTERN "check_edn.py" EXCLUDE PATTERN "test_*.py" EXCLUDE
        PATTERN "__pycache__" EXCLUDE)

file(GLOB tp_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${tp_docs}
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT tool)

# ---- man pages: the hook for the man-page work --------------------------------
# TREEPROOF_MAN_PAGES lists the built pages (*.1, *.5, *.7; each installed
# into share/man/manN/ by its suffix): docs/man/CMakeLists.txt, added
# before this file, sets it to its `man` target's outputs (empty when that
# cannot build them). On top of the list, install time picks up whatever
# *.1 *.5 *.7 sit in BUILD/docs/man/ or in docs/man/ of the source tree (a
# listed page wins over one of the same name found there, the build tree's
# over the source's). A listed page missing at install time is an error
# (build first: cmake --build BUILD); no page at all, no man/ directory.
install(CODE "set(TREEPROOF_MAN_LIST [==[${TREEPROOF_MAN_PAGES}]==])
set(TREEPROOF_MAN_DIRS [==[${PROJECT_BINARY_DIR}/docs/man;${PROJECT_SOURCE_DIR}/docs/man]==])
set(TREEPROOF_MANDIR [==[${CMAKE_INSTALL_MANDIR}]==])" COMPONENT tool)
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/install-man.cmake COMPONENT tool)

# ---- libedn: the codec on its own -------------------------------------------
# Static, not shared: edn.h shows struct edn_value's layout and the codec is
# 0.x, so every change to it would be an ABI break and a soname bump to
# manage; an archive has no ABI to keep, needs no ldconfig in the package,
# and is what both programs link already (scripts/check-layers reads this
# very archive), so nothing is built twice. Its objects are PIE (Debian's
# default), for programs; a shared library of your own that links it needs
# a build with -DCMAKE_POSITION_INDEPENDENT_CODE=ON. The header goes under
# include/treeproof/, so the generic name edn.h cannot clash with another's.
install(TARGETS edn ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT edn)
install(FILES ${PROJECT_SOURCE_DIR}/edn/include/edn.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/treeproof COMPONENT edn)
# treeproof-edn.pc: configured from edn/treeproof-edn.pc.in at install time,
# so its prefix is the one installed into (--prefix P; /usr in the .deb,
# whose staging tree CPack passes as DESTDIR), not the configure-time one.
install(CODE "set(TREEPROOF_PC_IN [==[${PROJECT_SOURCE_DIR}/edn/treeproof-edn.pc.in]==])
set(TREEPROOF_PC_OUT [==[${PROJECT_BINARY_DIR}/edn/treeproof-edn.pc]==])
set(TREEPROOF_PC_VERSION [==[${PROJECT_VERSION}]==])
set(TREEPROOF_PC_LIBDIR [==[${CMAKE_INSTALL_LIBDIR}]==])
set(TREEPROOF_PC_INCLUDEDIR [==[${CMAKE_INSTALL_INCLUDEDIR}]==])" COMPONENT edn)
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/install-pc.cmake COMPONENT edn)

# ---- the Debian package: cpack -G DEB → treeproof_VERSION_ARCH.deb ----------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME treeproof)
set(CPACK_PACKAGE_VENDOR treeproof)
set(CPACK_PACKAGE_CONTACT "treeproof maintainers <maintainers@treeproof.invalid>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "prove that a process runtime composes into a tree")
# The long description; CPack puts the summary above it as the synopsis.
set(CPACK_PACKAGE_DESCRIPTION
"treeproof reads a YAML tree scenario, launches the root node, drives EDN
requests through the tree and audits six properties from outside (replies,
topology, isolation, backpressure, containment, cascade) against its own
model of the tree. watvm is the minimal node it ships with; the same binary
runs at every level. Also included: the shipped scenarios, a second node in
Python, and libedn, the EDN codec, with its header and pkg-config file.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Run-time libraries only (libc6, libyaml-0-2), as dpkg-shlibdeps reads
# them off the binaries (CPack needs it and `file`: dpkg-dev and file,
# both in scripts/setup); listed by hand where either is missing.
find_program(TREEPROOF_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(TREEPROOF_FILE file)
if(TREEPROOF_DPKG_SHLIBDEPS AND TREEPROOF_FILE)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libyaml-0-2")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS graphviz)  # treeproof graph --svg, the HTML report's trees
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
include(CPack)
