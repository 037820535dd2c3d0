/* commands.h: the vertebra sub-commands; each returns the process exit status. */
#ifndef VT_COMMANDS_H
#define VT_COMMANDS_H

int vt_cmd_fmnist(int argc, char **argv);
int vt_cmd_phantom(int argc, char **argv);
int vt_cmd_bench(int argc, char **argv);
int vt_cmd_phantom_export(int argc, char **argv);
int vt_cmd_forward(int argc, char **argv);
int vt_cmd_ctbq(int argc, char **argv);
int vt_cmd_train(int argc, char **argv);
int vt_cmd_detect(int argc, char **argv);
int vt_cmd_predict_det(int argc, char **argv);
int vt_cmd_imgcls(int argc, char **argv);
int vt_cmd_eval_cls(int argc, char **argv);
int vt_cmd_predict_cls(int argc, char **argv);
int vt_cmd_softgt(int argc, char **argv); int vt_cmd_softseg(int argc, char **argv); int vt_cmd_predict_seg(int argc, char **argv);
int vt_cmd_mdseg(int argc, char **argv);

#endif
