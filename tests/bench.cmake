# glia bench: the library's case list, runs, JSON and comparison (test_bench.c),
# and the command line end to end. Smoke tests only: no timing is asserted.
file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/bench-work)
glia_add_test(test_bench SOURCES test_bench.c testutil.c LABELS cpu
              ARGS ${CMAKE_CURRENT_BINARY_DIR}/bench-work TEST_NAME bench)
target_link_libraries(test_bench PRIVATE PkgConfig::CJSON)  # reads the reports back with a parser of its own

set(GLIA_BENCH_DIR ${CMAKE_CURRENT_BINARY_DIR}/bench-work)
add_test(NAME cli_bench_json
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_expect.sh 0 "op\\.gemm\\.1024x1024x1024 +[0-9.]+"
                 $<TARGET_FILE:glia_cli> bench --device cpu
                 --filter op.gemm.1024x1024x1024,model.unet3d.infer,model.swinunetr.infer
                 --size 32 --repeat 1 --warmup 0 --no-peak --json ${GLIA_BENCH_DIR}/cli.json)
add_test(NAME cli_bench_compare
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_expect.sh 0
                 "\\| model\\.unet3d\\.infer \\| [0-9.]+ m?s \\| [0-9.]+ m?s x1\\.00 \\|"
                 $<TARGET_FILE:glia_cli> bench --compare ${GLIA_BENCH_DIR}/cli.json ${GLIA_BENCH_DIR}/cli.json
                 --png ${GLIA_BENCH_DIR}/cli.png)
add_test(NAME cli_bench_bad_suite
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_expect.sh 2 "--suite is ops, models, all or allreduce"
                 $<TARGET_FILE:glia_cli> bench --suite fast)
add_test(NAME cli_bench_list
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_expect.sh 0 "op\\.conv3d\\.bwd_weight\\.n1c8k16\\.128x128x128\\.k2s2"
                 $<TARGET_FILE:glia_cli> bench --list --suite ops --filter conv3d)
set_tests_properties(cli_bench_json PROPERTIES FIXTURES_SETUP bench_json LABELS cpu)
set_tests_properties(cli_bench_compare PROPERTIES FIXTURES_REQUIRED bench_json LABELS cpu)
# a job of one: the table with zero allreduce times and the cpu device's staging
add_test(NAME cli_bench_allreduce
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_expect.sh 0 "^ +67108864 +0\\.000 "
                 $<TARGET_FILE:glia_cli> bench --suite allreduce --device cpu --repeat 1)
set_tests_properties(cli_bench_bad_suite cli_bench_list cli_bench_allreduce PROPERTIES LABELS cpu)

# tools/bench_torch.py writes a report glia --compare reads (label interop: needs torch).
if(GLIA_TORCH_PYTHON)
  add_test(NAME interop_bench_torch
           COMMAND ${GLIA_TORCH_PYTHON} ${CMAKE_SOURCE_DIR}/tools/bench_torch.py --threads 1 --size 32 --batch 1
                   --filter model.unet2d --repeat 1 --warmup 0 --no-peak --json ${GLIA_BENCH_DIR}/torch.json)
  add_test(NAME interop_bench_torch_compare
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_expect.sh 0 "\\| model\\.unet2d\\.train_step \\| [0-9.]+ m?s \\|"
                   $<TARGET_FILE:glia_cli> bench --compare ${GLIA_BENCH_DIR}/torch.json ${GLIA_BENCH_DIR}/cli.json)
  set_tests_properties(interop_bench_torch PROPERTIES FIXTURES_SETUP bench_torch LABELS interop)
  set_tests_properties(interop_bench_torch_compare PROPERTIES FIXTURES_REQUIRED "bench_torch;bench_json"
                       LABELS interop)
endif()

# tools/bench_onnx.py: the same models in ONNX Runtime (onnxruntime-node), its outputs
# checked against torch's, and its report read by --compare (label interop). Needs node
# and `npm install --ignore-scripts --prefix tools/onnx` (ci/install-deps.sh does both).
find_program(GLIA_NODE node)
set(GLIA_ORT_MODULES ${CMAKE_SOURCE_DIR}/tools/onnx/node_modules)
if(DEFINED ENV{GLIA_ORT_MODULES})
  set(GLIA_ORT_MODULES $ENV{GLIA_ORT_MODULES})
endif()
if(GLIA_TORCH_PYTHON AND GLIA_NODE AND EXISTS ${GLIA_ORT_MODULES}/onnxruntime-node/package.json)
  set(onnx_env ENVIRONMENT GLIA_ORT_MODULES=${GLIA_ORT_MODULES})
  # model.unet3d takes infer_volume too: 4 x 39 x 60 x 60 in 18 windows of 32^3
  add_test(NAME interop_bench_onnx
           COMMAND ${GLIA_TORCH_PYTHON} ${CMAKE_SOURCE_DIR}/tools/bench_onnx.py --threads 1 --size 32 --batch 1
                   --filter model.unet2d,model.r2unet,model.unet3d --repeat 1 --warmup 0 --no-peak
                   --json ${GLIA_BENCH_DIR}/onnx.json)
  # ORT against torch: three models, and the JS sliding window against a numpy one
  add_test(NAME interop_bench_onnx_check
           COMMAND ${GLIA_TORCH_PYTHON} ${CMAKE_SOURCE_DIR}/tools/bench_onnx.py --check)
  # A, the first column, is ORT's; B is glia's (cli_bench_json)
  add_test(NAME interop_bench_onnx_compare
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_expect.sh 0
                   "\\| model\\.unet3d\\.infer \\| [0-9.]+ m?s \\| [0-9.]+ m?s x[0-9.]+ \\|"
                   $<TARGET_FILE:glia_cli> bench --compare ${GLIA_BENCH_DIR}/onnx.json ${GLIA_BENCH_DIR}/cli.json)
  set_tests_properties(interop_bench_onnx PROPERTIES FIXTURES_SETUP bench_onnx LABELS interop ${onnx_env})
  set_tests_properties(interop_bench_onnx_check PROPERTIES LABELS interop ${onnx_env})
  set_tests_properties(interop_bench_onnx_compare PROPERTIES FIXTURES_REQUIRED "bench_onnx;bench_json"
                       LABELS interop)
else()
  message(STATUS "interop_bench_onnx: off (needs torch, node and tools/onnx/node_modules/onnxruntime-node: "
                 "npm install --ignore-scripts --prefix tools/onnx)")
endif()
