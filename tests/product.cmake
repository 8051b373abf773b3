# The product: glia train, eval, infer and demo, end to end on small synthetic data
# (included by tests/CMakeLists.txt).
foreach(t train_e2e eval infer)
  glia_add_test(test_${t} SOURCES test_${t}.c product_util.c LABELS cpu TEST_NAME ${t}
                ARGS $<TARGET_FILE:glia_cli>)
endforeach()

# nnU-Net v2 and LGG folders through dataset, train (no --target, no --folds), infer and eval.
add_test(NAME nnunet_e2e
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/nnunet_e2e.sh $<TARGET_FILE:glia_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/nnunet-e2e)
set_tests_properties(nnunet_e2e PROPERTIES LABELS cpu TIMEOUT 120)

# Hostile files: a checkpoint's metadata claiming a huge model fails info and forward
# at once; --resume refuses another run's checkpoint and leaves the run as it was.
add_test(NAME hostile_ckpt
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/hostile_ckpt.sh $<TARGET_FILE:glia_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/hostile-ckpt)
set_tests_properties(hostile_ckpt PROPERTIES LABELS cpu TIMEOUT 60)

# Every bad flag or file: one clear line and a non-zero exit.
set(P ${CMAKE_CURRENT_BINARY_DIR}/product-cli)
glia_cli_test(train_no_out 2 "--out RUNDIR" train --data ${P})
glia_cli_test(train_unknown 2 "unknown option '--bogus'" train --bogus 1 --out ${P}/r)
glia_cli_test(train_bad_value 2 "lr: 'fast' is not a number" train --lr fast --data ${P} --out ${P}/r)
glia_cli_test(train_bad_loss 2 "unknown loss 'l2'" train --loss l2 --data ${P} --out ${P}/r)
glia_cli_test(train_bad_preset 2 "unknown preset 'nope'" train --preset nope --data ${P} --out ${P}/r)
glia_cli_test(train_bad_combo 2 "ce needs the labels target" train --loss ce --target regions --data ${P} --out ${P}/r)
glia_cli_test(train_no_data 1 "no such dataset folder" train --data ${P}/missing --out ${P}/r)
glia_cli_test(train_bad_config 2 "--config .*cannot open" train --config ${P}/missing.json --data ${P} --out ${P}/r)
glia_cli_test(train_resume_none 1 "holds no run" train --resume ${P}/missing)
glia_cli_test(train_resume_flags 2 "with --resume only" train --resume ${P}/missing --lr 1)
glia_cli_test(eval_no_input 2 "give --data DIR and either" eval --pred ${P})
glia_cli_test(eval_no_data 1 "not a folder" eval --data ${P}/missing --pred ${P})
glia_cli_test(eval_bad_flag 2 "unknown option '--frob'" eval --frob)
glia_cli_test(infer_no_weights 2 "--weights" infer ${P})
glia_cli_test(infer_no_input 2 "give inputs" infer --weights ${P}/w.safetensors)
glia_cli_test(infer_missing_input 2 "cannot read input" infer --weights ${P}/w.safetensors ${P}/none.nii.gz)
glia_cli_test(infer_missing_weights 1 "w.safetensors" infer --weights ${P}/w.safetensors --device cpu ${CMAKE_CURRENT_SOURCE_DIR})
glia_cli_test(infer_bad_blend 2 "--blend needs" infer --weights ${P}/w.safetensors --blend box ${CMAKE_CURRENT_SOURCE_DIR})
glia_cli_test(demo_bad_flag 2 "unknown option '--frob'" demo --frob)
glia_cli_test(help_train 0 "--resume RUNDIR" help train)

# SwinUNETR through train and infer on each backend (exit 77: device absent and not required).
foreach(dev cpu opencl:0 vulkan:0)
  string(REGEX REPLACE ":.*" "" backend ${dev})
  add_test(NAME swin_train_${backend}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/swin_train.sh $<TARGET_FILE:glia_cli> ${dev}
                   ${CMAKE_CURRENT_BINARY_DIR}/swin-train-${backend})
  set_tests_properties(swin_train_${backend} PROPERTIES LABELS ${backend} SKIP_RETURN_CODE 77 TIMEOUT 900)
endforeach()

# The README's walk-through, every command as written, on tiny synthetic data.
add_test(NAME readme_walkthrough
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/readme_walkthrough.sh ${CMAKE_SOURCE_DIR}/README.md
                 $<TARGET_FILE:glia_cli> ${CMAKE_CURRENT_BINARY_DIR}/readme-walkthrough)
set_tests_properties(readme_walkthrough PROPERTIES LABELS cpu TIMEOUT 600)

# Progress lines on a terminal (a pseudo-terminal from script(1)), none in a pipe.
add_test(NAME cli_progress
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/progress_test.sh $<TARGET_FILE:glia_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/progress)
set_tests_properties(cli_progress PROPERTIES LABELS cpu SKIP_RETURN_CODE 77 TIMEOUT 300)

# One run per run folder (a lock naming its holder), runs without a checkpoint resumable,
# temporary files of killed writes removed, names up to NAME_MAX writable.
glia_add_test(test_runlock SOURCES test_runlock.c product_util.c LABELS cpu TEST_NAME runlock)
add_test(NAME cli_runlock
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/runlock_test.sh $<TARGET_FILE:glia_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/runlock)
set_tests_properties(cli_runlock PROPERTIES LABELS cpu TIMEOUT 300)
