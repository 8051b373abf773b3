# Command-line behaviour: exit codes and messages of the glia binary.
set(GLIA_BIN $<TARGET_FILE:glia_cli>)
set(EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli_expect.sh)
function(glia_cli_test name code pattern)
  add_test(NAME cli_${name} COMMAND sh ${EXPECT} ${code} ${pattern} ${GLIA_BIN} ${ARGN})
  set_tests_properties(cli_${name} PROPERTIES LABELS cpu)
endfunction()
glia_cli_test(version 0 "^glia [0-9]+\\.[0-9]+\\.[0-9]+" --version)
glia_cli_test(help 0 "devices" help)
glia_cli_test(devices 0 "\\* cpu:0|cpu:0" devices)
glia_cli_test(no_command 2 "usage")
glia_cli_test(unknown_command 2 "unknown command 'frobnicate'" frobnicate)
glia_cli_test(unknown_flag 2 "unknown option '--bogus'" toy --bogus)
glia_cli_test(bad_value 2 "--steps needs a whole number" toy --steps x)
glia_cli_test(missing_value 2 "needs a value" toy --steps)
# every command answers -h/--help with its usage; --option=value is every option's other spelling;
# -o and --output are --out everywhere
foreach(c devices bench toy init info forward convert dataset synth train eval infer demo)
  glia_cli_test(help_flag_${c} 0 "^usage: glia ${c} " ${c} --help)
endforeach()
glia_cli_test(help_short 0 "^usage: glia train " train --data x -h)
glia_cli_test(equals_value 2 "--steps needs a whole number from 1 to .*, got 'x'" toy --steps=x)
glia_cli_test(equals_run 0 "held-out Dice" toy --steps=5 --device=cpu --threads=1)
glia_cli_test(init_out 0 "wrote unet2d .* to .*init-out.safetensors" init unet2d --features=4,8
              -o ${CMAKE_CURRENT_BINARY_DIR}/init-out.safetensors)
glia_cli_test(help_train_defaults 0 "--fg-fraction +0\\.33 " help train)
glia_cli_test(bad_device 1 "device spec 'gpu:3' is not known" toy --device gpu:3)
glia_cli_test(toy 0 "held-out Dice 0\\.9" toy --device cpu --steps 60)
glia_cli_test(bench 0 "op.gemm.1024x1024x1024 +[0-9.]+ +[0-9.]+" bench --device cpu --filter gemm.1024 --repeat 1)
glia_cli_test(bench_nomatch 2 "no benchmark matches" bench --device cpu --filter nothing)

# A split file that cannot be used, or one that cannot be saved, fails the
# command (exit 1) with the reason: scripts checking a dataset rely on it.
set(CLI_DS ${CMAKE_CURRENT_BINARY_DIR}/cli-split-ds)
add_test(NAME cli_split_dataset
         COMMAND ${GLIA_BIN} synth -o ${CLI_DS} --cases 4 --size 16x16x8 --threads 1)
set_tests_properties(cli_split_dataset PROPERTIES LABELS cpu FIXTURES_SETUP cli_split_ds)
glia_cli_test(dataset_split_missing 1 "glia: dataset: cannot open .*no-such-split\\.json: No such file"
              dataset ${CLI_DS} --split ${CLI_DS}/no-such-split.json)
glia_cli_test(dataset_split_unknown 1 "glia: dataset: .*split_unknown_case\\.json: case nobody is not in the dataset"
              dataset ${CLI_DS} --split ${CMAKE_CURRENT_SOURCE_DIR}/split_unknown_case.json)
glia_cli_test(dataset_save_split_fails 1 "glia: dataset: cannot create .*no-such-folder/.*: No such file"
              dataset ${CLI_DS} --save-split ${CLI_DS}/no-such-folder/split.json)
set_tests_properties(cli_dataset_split_missing cli_dataset_split_unknown cli_dataset_save_split_fails
                     PROPERTIES FIXTURES_REQUIRED cli_split_ds)
